//! Storage input of any shape: converting it, and converting the Markdown back, never panics.
//! Input nested deeper than `MAX_DEPTH` is refused with an error, never a stack overflow
//! (`scripts/fuzz` runs the targets on a 2 MiB stack, like a tokio worker thread).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Ok(md) = conflux_convert::storage_to_markdown(&input)
        && let Ok(back) = conflux_convert::markdown_to_storage(&md.output)
    {
        let _ = conflux_convert::census(&back.output);
    }
    let _ = conflux_convert::normalized(&input);
});
