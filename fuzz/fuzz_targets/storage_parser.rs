//! Storage input of any shape: converting it, and converting the Markdown back, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let md = conflux_convert::storage_to_markdown(&input);
    let back = conflux_convert::markdown_to_storage(&md.output);
    let _ = conflux_convert::census(&back.output);
    let _ = conflux_convert::normalized(&input);
});
