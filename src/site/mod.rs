//! Load and check site files. Takes the files under `sites/` and hands on
//! checked `Site`s (`model`), with every finding as a `Diagnostic`.

pub mod defaults;
pub mod diagnostic;
pub mod extensions;
pub mod file;
pub mod load;
pub mod mac;
pub mod model;
pub mod name;
pub mod params;
pub mod parse;
pub mod repair;
pub mod rules;
pub mod schema;
pub mod secret;
pub mod source;
