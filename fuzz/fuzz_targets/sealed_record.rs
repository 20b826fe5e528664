//! The encrypted record decoder: any bytes under any key are an error, never a panic, and a
//! record sealed by the broker opens only under its own key, associated data and format.
//!
//! Input layout: mode byte, 32-byte master key, 48-byte authid, provider length byte, provider,
//! then the payload. Mode even: the payload is a blob as found in the database. Mode odd: the
//! payload is plaintext, sealed as a grant record first (so the JSON decoder behind the tag
//! check is reached), then damaged at a position the mode byte picks.
#![no_main]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use oauth_broker::crypto::authid::Authid;
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::crypto::seal::SealKey;
use oauth_broker::fuzzing::{open_record, seal_record, RECORD_FORMAT};

struct Input<'a> {
    mode: u8,
    master: MasterKey,
    authid: Authid,
    authid_bytes: [u8; 48],
    provider: String,
    payload: &'a [u8],
}

fn split(data: &[u8]) -> Option<Input<'_>> {
    let (&mode, rest) = data.split_first()?;
    let (master, rest) = rest.split_at_checked(32)?;
    let (authid, rest) = rest.split_at_checked(48)?;
    let (&len, rest) = rest.split_first()?;
    let (provider, payload) = rest.split_at_checked(usize::from(len % 32).min(rest.len()))?;
    Some(Input {
        mode,
        master: MasterKey::from_base64(&STANDARD.encode(master)).ok()?,
        authid: Authid::parse(&URL_SAFE_NO_PAD.encode(authid)).ok()?,
        authid_bytes: authid.try_into().ok()?,
        provider: String::from_utf8_lossy(provider).into_owned(),
        payload,
    })
}

/// A blob from the database that the broker did not seal does not open (forging an AES-GCM tag
/// by chance has odds of 2^-128), and nothing panics on the way.
fn check_blob(input: &Input<'_>) {
    let opened = open_record(
        &input.master,
        &input.authid,
        &input.provider,
        RECORD_FORMAT,
        input.payload,
    );
    assert!(opened.is_none(), "an unsealed blob opened");
    let key = SealKey::for_grant(&input.master, &input.authid);
    assert!(key.open(input.provider.as_bytes(), input.payload).is_err());
}

/// A sealed record opens only when its plaintext is a grant record (a JSON object), decodes to
/// JSON, and decoding is a fixed point; any other key, provider, format or a damaged byte fails.
fn check_sealed(input: &Input<'_>) {
    let (master, authid, provider) = (&input.master, &input.authid, input.provider.as_str());
    let sealed = seal_record(master, authid, provider, input.payload);
    assert_eq!(sealed.len(), 12 + input.payload.len() + 16);

    let opened = open_record(master, authid, provider, RECORD_FORMAT, &sealed);
    if let Some(json) = &opened {
        // Not "the plaintext is JSON": serde_json skips unknown fields without checking
        // their strings are UTF-8. Only the broker's own serializer writes records.
        let first = input.payload.iter().find(|b| !b.is_ascii_whitespace());
        assert_eq!(first, Some(&b'{'), "a record that is not an object decoded");
        assert!(serde_json::from_slice::<serde_json::Value>(json).is_ok());
        let again = seal_record(master, authid, provider, json);
        let reopened = open_record(master, authid, provider, RECORD_FORMAT, &again);
        assert_eq!(
            reopened.as_deref(),
            Some(&**json),
            "decode is not a fixed point"
        );
    }

    let other_provider = format!("{provider}x");
    assert!(open_record(master, authid, &other_provider, RECORD_FORMAT, &sealed).is_none());
    assert!(open_record(master, authid, provider, RECORD_FORMAT + 1, &sealed).is_none());
    let mut other = input.authid_bytes;
    other[usize::from(input.mode) % other.len()] ^= 0x80;
    let other = Authid::parse(&URL_SAFE_NO_PAD.encode(other)).expect("48 bytes make an authid");
    assert!(open_record(master, &other, provider, RECORD_FORMAT, &sealed).is_none());

    let mut damaged = sealed;
    let at = usize::from(input.mode) * 7 % damaged.len();
    damaged[at] ^= 1 << (input.mode % 8);
    assert!(open_record(master, authid, provider, RECORD_FORMAT, &damaged).is_none());
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = split(data) else {
        return;
    };
    if input.mode % 2 == 0 {
        check_blob(&input);
    } else {
        check_sealed(&input);
    }
});
