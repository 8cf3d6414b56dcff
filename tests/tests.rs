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
mod data_addresses;
mod defaults;
mod dhcp;
mod doc_blocks;
mod doctor;
mod explain;
mod failed_apply;
mod forged_state;
mod ftp_scenarios;
mod fuzz;
mod golden;
mod hash_key;
mod hints;
mod hostile;
mod html_report;
mod idle_sessions;
mod import;
mod import_ftp;
mod killed_sessions;
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
