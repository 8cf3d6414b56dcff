//! What the rest of a run will ask of each account: its targets not done
//! yet. A session parked for the next target of its account (see `idle`)
//! is of no use once none is left, and holds a place a small server may
//! need for another account (see `admission`): the last target of an
//! account ends its sessions instead of parking them, and those parked
//! before it. A run that announced nothing (a command that opens one
//! target) parks every session that can be.

use std::sync::{Mutex, MutexGuard};

use super::locks::lock;
use crate::site::model::{Target, TargetUrl};

/// Whose sessions serve whom, as site files name it: a server's host and
/// port, and a user.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    host: String,
    port: u16,
    user: String,
}

impl Account {
    pub fn new(host: &str, port: u16, user: &str) -> Self {
        Account {
            host: host.to_owned(),
            port,
            user: user.to_owned(),
        }
    }

    fn of(target: &Target) -> Option<Self> {
        match &target.url {
            TargetUrl::Ftp { host, port, .. } => Some(Account::new(host, *port, &target.user)),
            TargetUrl::Dir(_) => None,
        }
    }
}

/// Each account's targets not done yet; `None` until a run announces its
/// targets.
static DEMAND: Mutex<Option<Vec<(Account, usize)>>> = Mutex::new(None);

fn demand() -> MutexGuard<'static, Option<Vec<(Account, usize)>>> {
    lock(&DEMAND)
}

/// The run will open each of `targets` once.
pub fn expect<'a>(targets: impl IntoIterator<Item = &'a Target>) {
    let accounts: Vec<Account> = targets.into_iter().filter_map(Account::of).collect();
    if accounts.is_empty() {
        return;
    }
    let mut demand = demand();
    let counts = demand.get_or_insert_with(Vec::new);
    for account in accounts {
        match counts.iter_mut().find(|(a, _)| *a == account) {
            Some((_, n)) => *n += 1,
            None => counts.push((account, 1)),
        }
    }
}

/// A target of `account` is done.
pub fn done(account: &Account) {
    if let Some(counts) = demand().as_mut() {
        if let Some((_, n)) = counts.iter_mut().find(|(a, _)| a == account) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Whether a target of `account` may still come (always, where the run
/// announced nothing).
pub fn wanted(account: &Account) -> bool {
    match demand().as_ref() {
        None => true,
        Some(counts) => counts.iter().any(|(a, n)| a == account && *n > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str, user: &str) -> Target {
        Target {
            url: TargetUrl::parse(url).expect("a target URL"),
            display: url.to_owned(),
            user: user.to_owned(),
            password: None,
            ca_file: None,
            timeout: std::time::Duration::from_secs(5),
        }
    }

    #[test]
    fn an_account_is_wanted_until_its_last_target_is_done() {
        let a = Account::new("demand.example", 21, "a");
        let b = Account::new("demand.example", 21, "b");
        expect(&[
            target("ftp://demand.example/s1", "a"),
            target("ftp://demand.example/s2", "a"),
            target("ftp://demand.example/t1", "b"),
            target("dir:local", "a"),
        ]);
        assert!(wanted(&a) && wanted(&b));
        done(&b);
        assert!(!wanted(&b), "no target of b is left");
        done(&a);
        assert!(wanted(&a), "one target of a is left");
        done(&a);
        assert!(!wanted(&a));
        assert!(
            !wanted(&Account::new("demand.example", 2121, "a")),
            "never announced"
        );
    }
}
