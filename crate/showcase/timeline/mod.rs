//! The timeline of which worker ran each job: its model (plain Rust) and the canvas
//! that draws it.

#[cfg(target_arch = "wasm32")]
pub mod canvas;
pub mod model;

pub use model::*;
