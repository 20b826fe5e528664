//! The parsers and decoders the broker runs on hostile input, reachable by the fuzz targets in
//! `fuzz/`. Not part of the API: hidden from the docs and free to change with the targets.

pub use crate::http::compat::{
    fetch_request, refresh_request, FetchParams, InvalidCallback, RefreshRequest,
};
pub use crate::http::extract::{bearer, json as json_body};
pub use crate::service::grant::{open_record, seal_record};

/// The record format new grants are sealed in.
pub const RECORD_FORMAT: i64 = crate::service::grant::FORMAT;
