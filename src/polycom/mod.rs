//! Polycom's configuration format: the XML polyops writes, and a reader
//! (a real XML parser) for what phones and installers wrote.

pub mod effective;
pub mod reader;
pub mod xml;
