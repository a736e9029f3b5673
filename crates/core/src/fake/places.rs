//! [`FakePlaces`]: the [`Places`] port over fake regions, one per account, for tests of the
//! handler and the sweep; [`Metered`] counts the runs it serves and the sessions it keeps open.

use super::FakeRegion;
use crate::error::AwsError;
use crate::ids::Place;
use crate::ports::Places;
use crate::reconcile::DEADLINE_NEAR;
use crate::sweep::NOT_CHECKED;
use crate::trigger::Trigger;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// One fake region per reachable account (the same in every region); any other account
/// refuses the member role, as AWS refuses `AssumeRole`. The account [`EVERYWHERE`] stands for
/// every account that has no fake of its own.
#[derive(Debug, Clone, Default)]
pub struct FakePlaces(pub BTreeMap<String, Arc<FakeRegion>>);

/// The key of [`FakePlaces::everywhere`]'s fake.
pub const EVERYWHERE: &str = "*";

impl FakePlaces {
    /// One account's fake, in every region.
    pub fn one(account: &str, fake: Arc<FakeRegion>) -> Self {
        Self(BTreeMap::from([(account.to_owned(), fake)]))
    }

    /// One fake for every account and region (a single account's handler, whatever its
    /// account).
    pub fn everywhere(fake: Arc<FakeRegion>) -> Self {
        Self::one(EVERYWHERE, fake)
    }
}

impl Places for FakePlaces {
    type Inventory = Arc<FakeRegion>;
    type Remediator = Arc<FakeRegion>;

    async fn ports(
        &self,
        place: &Place,
        _trigger: &Trigger,
    ) -> Result<(Arc<FakeRegion>, Arc<FakeRegion>), AwsError> {
        match self
            .0
            .get(&place.account)
            .or_else(|| self.0.get(EVERYWHERE))
        {
            Some(fake) => Ok((fake.clone(), fake.clone())),
            None => Err(AwsError::service(
                "AssumeRole",
                "AccessDenied",
                format!("cannot assume flowguard-member in {}", place.account),
            )),
        }
    }
}

/// Places that count the runs they serve (a [`FakePlaces`], unless told otherwise): how many
/// started, and how many were having their ports at once at the most (each holds its slot
/// across two suspensions, as a real `AssumeRole` would). With a `budget`, the runs after that
/// many are refused as the deadline refuses them ("not checked"), so that a test of a deadline
/// needs no clock.
#[derive(Debug)]
pub struct Metered<P = FakePlaces> {
    pub inner: P,
    pub budget: Option<usize>,
    started: AtomicUsize,
    in_flight: AtomicUsize,
    most: AtomicUsize,
    /// The accounts whose "session" is open: from their first ports until
    /// [`Places::done_with`].
    sessions: Mutex<BTreeSet<String>>,
    most_sessions: AtomicUsize,
}

impl<P: Places> Metered<P> {
    pub fn new(inner: P, budget: Option<usize>) -> Self {
        Self {
            inner,
            budget,
            started: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            sessions: Mutex::new(BTreeSet::new()),
            most_sessions: AtomicUsize::new(0),
        }
    }

    /// The accounts whose session is still open (not yet [`Places::done_with`]).
    pub fn sessions_open(&self) -> usize {
        self.open_sessions().len()
    }

    /// The most sessions that were open at once.
    pub fn most_sessions_at_once(&self) -> usize {
        self.most_sessions.load(Ordering::SeqCst)
    }

    fn open_sessions(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The most runs that were having their ports at once.
    pub fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }

    /// Starts counting again (a new sweep, a new budget).
    pub fn restart(&self) {
        self.started.store(0, Ordering::SeqCst);
    }
}

impl<P: Places> Places for Metered<P> {
    type Inventory = P::Inventory;
    type Remediator = P::Remediator;

    async fn ports(
        &self,
        place: &Place,
        trigger: &Trigger,
    ) -> Result<(P::Inventory, P::Remediator), AwsError> {
        if self
            .budget
            .is_some_and(|budget| self.started.fetch_add(1, Ordering::SeqCst) >= budget)
        {
            return Err(AwsError::service("AssumeRole", DEADLINE_NEAR, NOT_CHECKED));
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let open = {
            let mut sessions = self.open_sessions();
            sessions.insert(place.account.clone());
            sessions.len()
        };
        self.most_sessions.fetch_max(open, Ordering::SeqCst);
        YieldOnce(false).await;
        YieldOnce(false).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.inner.ports(place, trigger).await
    }

    fn done_with(&self, account: &str) {
        self.open_sessions().remove(account);
        self.inner.done_with(account);
    }
}

/// Pending once, then ready: lets the executor start other runs meanwhile.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
