//! The authid parser: any text is refused, or parsed into an authid that encodes back to the
//! same 64 characters. Exactly the 64-character base64url strings (after trimming) parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_broker::crypto::authid::{Authid, AUTHID_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let trimmed = text.trim();
    let well_formed = trimmed.len() == AUTHID_LEN
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');

    let Ok(authid) = Authid::parse(text) else {
        assert!(!well_formed, "a well-formed authid was refused");
        return;
    };
    assert!(well_formed, "a malformed authid was accepted");
    let encoded = authid.encode();
    assert_eq!(
        encoded.as_str(),
        trimmed,
        "parse then encode changed the authid"
    );
    let again = Authid::parse(&encoded).expect("an encoded authid parses");
    assert_eq!(again.grant_id(), authid.grant_id());
    assert_eq!(format!("{authid:?}"), "Authid([redacted])");
});
