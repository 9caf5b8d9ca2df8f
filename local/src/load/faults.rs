//! The fault run: the relay's, the consumer's and the webhook deliverer's processes killed
//! (SIGKILL) at random moments while the orders flow, each kill followed by a check that a
//! fresh process took its place.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::processes;
use super::random_below;

/// The functions killed: the two ends of the event pipeline, and the webhooks' deliverer.
pub const FUNCTIONS: [&str; 3] = [
    "order-events-relay",
    "order-events-consumer",
    "deliver-webhooks",
];
/// The random pause between two kills.
const PAUSE_MS: (usize, usize) = (150, 650);
/// How long a killed process may take to be replaced before the run says it was not.
const RESTART_TIMEOUT: Duration = Duration::from_secs(30);
/// How long kills go on after the orders stopped flowing, to reach the minimum.
const AFTER_FLOW: Duration = Duration::from_secs(120);

pub struct Kill {
    pub function: &'static str,
    /// How long until a new process of the function ran in its place; `None`: none did.
    pub replaced_after: Option<Duration>,
}

#[derive(Default)]
pub struct Report {
    pub kills: Vec<Kill>,
    /// Moments at which the chosen function had no process (not started yet, or starting).
    pub missed: usize,
}

impl Report {
    pub fn of(&self, function: &str) -> usize {
        self.kills
            .iter()
            .filter(|kill| kill.function == function)
            .count()
    }

    pub fn replaced(&self) -> usize {
        self.kills
            .iter()
            .filter(|kill| kill.replaced_after.is_some())
            .count()
    }

    pub fn slowest_replacement(&self) -> Duration {
        self.kills
            .iter()
            .filter_map(|kill| kill.replaced_after)
            .max()
            .unwrap_or_default()
    }
}

/// Kills until the orders stopped flowing and at least `min_kills` were made (or
/// [`AFTER_FLOW`] passed after the flow, which the caller reports as too few kills).
pub async fn inject(watch: u32, min_kills: usize, flowing: Arc<AtomicBool>) -> Report {
    let mut report = Report::default();
    let mut flow_ended: Option<Instant> = None;
    loop {
        if !flowing.load(Ordering::SeqCst) {
            let ended = *flow_ended.get_or_insert_with(Instant::now);
            if report.kills.len() >= min_kills || ended.elapsed() > AFTER_FLOW {
                return report;
            }
        }
        let pause = PAUSE_MS.0 + random_below(PAUSE_MS.1 - PAUSE_MS.0);
        tokio::time::sleep(Duration::from_millis(pause as u64)).await;
        let function = FUNCTIONS[random_below(FUNCTIONS.len())];
        let alive = processes::function_processes(watch, function);
        if alive.is_empty() {
            report.missed += 1;
            continue;
        }
        let victim = &alive[random_below(alive.len())];
        let killed = tokio::process::Command::new("kill")
            .args(["-KILL", &victim.pid.to_string()])
            .status()
            .await
            .is_ok_and(|status| status.success());
        if !killed {
            continue; // it ended on its own just now
        }
        let before: Vec<u32> = alive.iter().map(|process| process.pid).collect();
        let replaced_after = replacement(victim.parent, victim.pid, function, watch, &before).await;
        report.kills.push(Kill {
            function,
            replaced_after,
        });
    }
}

/// Waits for the process that takes the killed one's place: a new child of its parent (the
/// function runner), or with no runner (the parent is watch itself) any process of the
/// function that was not there before the kill.
async fn replacement(
    parent: u32,
    killed: u32,
    function: &str,
    watch: u32,
    before: &[u32],
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < RESTART_TIMEOUT {
        let fresh = if parent == watch {
            processes::function_processes(watch, function)
                .into_iter()
                .any(|process| !before.contains(&process.pid))
        } else {
            processes::children_running(parent, function)
                .into_iter()
                .any(|pid| pid != killed)
        };
        if fresh {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}
