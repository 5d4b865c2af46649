//! A process worker: a worker that shares nothing with the page (a wasm instance of its
//! own), sent calls by registered name, as Python pickles a function by name.

pub mod protocol;
pub mod registry;
pub mod worker;
