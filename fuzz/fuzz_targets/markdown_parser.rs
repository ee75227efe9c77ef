//! Markdown input of any shape, placeholder comments included, never panics. Input nested
//! deeper than `MAX_DEPTH` is refused with an error, never a stack overflow (`scripts/fuzz`
//! runs the targets on a 2 MiB stack, like a tokio worker thread).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Ok(storage) = conflux_convert::markdown_to_storage(&input) {
        // What the Markdown side writes, the storage side reads: never deeper than the limit.
        if let Err(e) = conflux_convert::storage_to_markdown(&storage.output) {
            panic!("storage written from Markdown was refused: {e}");
        }
    }
});
