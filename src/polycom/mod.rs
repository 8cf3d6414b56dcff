//! Polycom's configuration format: the XML polyops writes, a reader (a
//! real XML parser) for what phones and installers wrote, and the catalog
//! of parameter names the firmware knows.

pub mod catalog;
pub mod effective;
pub mod reader;
pub mod xml;
