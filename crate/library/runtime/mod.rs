//! The runtime helpers the pools are built from.

#[cfg(target_arch = "wasm32")]
pub mod heap;
pub mod oneshot;
pub mod scope;
pub(crate) mod sync;
pub mod time;
