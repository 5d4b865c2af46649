//! What a run leaves to look at: a record per job, the log's lines, the trace.

pub mod devtools;
pub mod log;
pub mod record;
pub mod trace;
