//! Windows named pipes. TODO(#3): implemented by the Windows port; this file must compile for
//! `x86_64-pc-windows-gnu`.
