//! git's credential protocol reader: any input is refused (not UTF-8) or read into attributes
//! that hold no line break and no `=` in a key, and what git would send for those attributes
//! reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_agent::commands::git_credential::{parse_attributes, read_attributes};

fuzz_target!(|data: &[u8]| {
    let read = read_attributes(data);
    if data.len() <= 64 * 1024 {
        assert_eq!(read.is_ok(), std::str::from_utf8(data).is_ok());
    }
    let Ok(attributes) = read else {
        return;
    };
    for (key, value) in &attributes {
        assert!(!key.contains(['=', '\n']), "bad key {key:?}");
        assert!(!value.contains('\n'), "bad value {value:?}");
    }

    // A value ending in CR cannot be sent: git, like this reader, strips CR before LF.
    if attributes.values().any(|value| value.ends_with('\r')) {
        return;
    }
    let mut text: String = attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}\n"))
        .collect();
    text.push('\n');
    text.push_str("ignored=after the blank line\n");
    assert_eq!(parse_attributes(&text), attributes, "written as {text:?}");
});
