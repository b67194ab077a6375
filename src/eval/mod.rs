//! The measures calltone reports about its model (`eval --dev`) and about
//! the moments analysis (`eval --moments`); the data they run on is in `data`.

pub mod metrics;
pub mod moment_bar;
pub mod run;
pub mod supervisor_list;
