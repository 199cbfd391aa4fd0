//! The top layer: where the capabilities are put together into a hall.
//!
//! - [`open`]: open (or create) and migrate the database, plug the wiring into the kernel, and
//!   run what must happen on every start (the bundled holiday notices). Every transport opens
//!   the hall through it: the desktop, the hall server, the CLI, the tests.
//! - [`reactions`]: what happens when a domain event is emitted (the calendar changed → every
//!   open case is recomputed), so that no capability calls one above it.
//! - [`jobs`]: the periodic work of a hall (deadline sweep, report filing, scheduled backups,
//!   retention, outbox delivery), one implementation run by the desktop and the hall server.
//! - [`history`] and [`demo`]: the generated history and the demo hall, written through the
//!   capabilities' own functions.
//!
//! The registry of operations ([`crate::for_each_operation!`]) is part of this layer too.

pub mod demo;
pub mod history;
pub mod jobs;
pub mod reactions;

use std::path::Path;

use jiff::Timestamp;

use crate::kernel::error::Result;
use crate::kernel::op::{Actor, Credential, Wiring};
use crate::kernel::store::{AfterCommit, OpenReport, Store, Tx};

/// Open the hall's database at `location` — a SQLite file, or a `postgres://` URL with
/// `data_dir` for the archive — migrated, wired and synchronised with this build's bundled
/// data. The one way every transport opens a hall.
pub fn open(
    location: &str,
    data_dir: Option<&Path>,
    now: Timestamp,
) -> Result<(Store, OpenReport)> {
    let (store, report) = Store::open_location(location, data_dir, now)?;
    wire(&store);
    jobs::on_open(&store, now)?;
    Ok((store, report))
}

/// [`open`] for a SQLite file.
pub fn open_file(path: impl AsRef<Path>, now: Timestamp) -> Result<(Store, OpenReport)> {
    let path = path.as_ref().to_string_lossy().into_owned();
    open(&path, None, now)
}

/// Plug identity and reactions into an opened store (see [`Wiring`]), and the audit chain's
/// sealer after each commit (see [`AfterCommit`]).
pub fn wire(store: &Store) {
    store.shared().provide(Wiring {
        identity,
        react: reactions::react,
    });
    store
        .shared()
        .provide(AfterCommit(crate::kernel::audit::seal_committed));
}

/// Who a token is: a staff session (the staff capability) or a registered device (devices).
fn identity(tx: &Tx<'_>, credential: &Credential, now: Timestamp) -> Result<Actor> {
    match credential {
        Credential::Token(token) => crate::staff::auth::resolve_session(tx, token, now),
        Credential::DeviceToken(token) => match crate::devices::resolve(tx, token)? {
            Some((kind, window)) => Ok(Actor::Device(kind, window)),
            None => Err(crate::kernel::error::CoreError::new(
                crate::kernel::error::ErrorCode::Unauthenticated,
                "设备凭证无效或已注销，请管理员重新登记",
            )),
        },
        Credential::Anonymous => Ok(Actor::Anonymous),
        Credential::Device(kind) => Ok(Actor::Device(*kind, None)),
        Credential::DeviceAt(kind, window) => Ok(Actor::Device(*kind, Some(window.clone()))),
        Credential::System(who) => Ok(Actor::System(who.clone())),
    }
}
