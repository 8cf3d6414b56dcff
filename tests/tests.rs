//! The integration tests: one binary, one module per feature, sharing the
//! fixtures and server helpers below. Each test drives the real `polyops`
//! binary (see `common::Test`).

mod browser;
mod common;
mod emulated_phone;
mod ftp_support;
mod handmade;
mod scripted;
mod tools;

mod boot;
mod checklist;
mod completions;
mod defaults;
mod dhcp;
mod doc_blocks;
mod doctor;
mod explain;
mod ftp_scenarios;
mod fuzz;
mod golden;
mod hash_key;
mod hostile;
mod html_report;
mod import;
mod import_ftp;
mod layering;
mod many_sites;
mod param_diffs;
mod params;
mod phones;
mod plan_output;
mod render;
mod resync;
mod schema;
mod selection;
mod session_limits;
mod validate;
