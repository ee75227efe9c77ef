//! Markdown input of any shape, placeholder comments included, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let storage = conflux_convert::markdown_to_storage(&input);
    let _ = conflux_convert::storage_to_markdown(&storage.output);
});
