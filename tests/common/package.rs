//! The firmware package's files every master file names (guide §5: the
//! installer extracts them to the FTP root), as stand-in bytes: a root
//! without them fails the boot check. Shared by `common` and `ftp_support`.

/// Name → stand-in bytes of each file the package puts at the root.
pub const FIRMWARE_PACKAGE: [(&str, &str); 3] = [
    ("sip.ld", "stand-in for the SIP 3.2.7 application image\n"),
    ("sip.cfg", "<?xml version=\"1.0\"?>\n<sip/>\n"),
    ("phone1.cfg", "<?xml version=\"1.0\"?>\n<phone1/>\n"),
];
