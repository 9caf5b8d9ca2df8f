//! The local stack's processes, read from /proc: which function processes belong to this
//! stack (and not to another one running the same binaries), and how much CPU each part of the
//! stack used.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

/// One process, as /proc shows it.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    /// The executable's file name (`order-events-relay`), or the command's first words.
    pub name: String,
    /// User + system CPU time, in clock ticks.
    pub ticks: u64,
}

/// Every process now.
pub fn all() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read)
        .collect()
}

fn read(pid: u32) -> Option<Process> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields follow its last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let parent = fields.get(1)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Process {
        pid,
        parent,
        name: name_of(pid),
        ticks,
    })
}

fn name_of(pid: u32) -> String {
    let exe = fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .map(|name| name.trim_end_matches(" (deleted)").to_owned())
        .unwrap_or_default();
    // Interpreters are named by what they run: `python local/gateway.py` is the gateway.
    if exe.is_empty() || exe.starts_with("python") || exe == "java" || exe.ends_with("sh") {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let words: Vec<String> = cmdline
            .split(|byte| *byte == 0)
            .map(|word| String::from_utf8_lossy(word).into_owned())
            .collect();
        if let Some(script) = words
            .iter()
            .find(|word| word.ends_with(".py") || word.ends_with(".jar"))
        {
            let script = Path::new(script)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            // stack.py runs the pollers (and the provisioning, which is over by then).
            return script;
        }
    }
    exe
}

/// The processes descending from `root` (itself included).
pub fn descendants(processes: &[Process], root: u32) -> Vec<&Process> {
    let mut children: HashMap<u32, Vec<&Process>> = HashMap::new();
    for process in processes {
        children.entry(process.parent).or_default().push(process);
    }
    let mut found: Vec<&Process> = processes.iter().filter(|p| p.pid == root).collect();
    let mut index = 0;
    while index < found.len() {
        if let Some(kids) = children.get(&found[index].pid) {
            found.extend(kids.iter().copied());
        }
        index += 1;
    }
    found
}

/// The live processes of `binary` under `watch` (the stack's `cargo lambda watch`).
pub fn function_processes(watch: u32, binary: &str) -> Vec<Process> {
    let processes = all();
    descendants(&processes, watch)
        .into_iter()
        .filter(|process| process.name == binary && process.pid != watch)
        .cloned()
        .collect()
}

/// The children of `parent` running `binary`.
pub fn children_running(parent: u32, binary: &str) -> Vec<u32> {
    all()
        .into_iter()
        .filter(|process| process.parent == parent && process.name == binary)
        .map(|process| process.pid)
        .collect()
}

/// CPU ticks of each process under the named roots: `pid -> (part, process name, ticks)`.
pub type Usage = HashMap<u32, (String, String, u64)>;

pub fn usage(roots: &[(String, u32)]) -> Usage {
    let processes = all();
    let mut usage = Usage::new();
    for (part, root) in roots {
        for process in descendants(&processes, *root) {
            usage.insert(
                process.pid,
                (part.clone(), process.name.clone(), process.ticks),
            );
        }
    }
    usage
}

/// CPU ticks each (part, process name) used between two readings, most first. A process that
/// ended meanwhile is not seen (a killed function's last CPU is lost): a lower bound.
pub fn used_between(before: &Usage, after: &Usage) -> Vec<(String, String, u64)> {
    let mut used: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (pid, (part, name, ticks)) in after {
        let earlier = before.get(pid).map_or(0, |(_, _, ticks)| *ticks);
        *used.entry((part.clone(), name.clone())).or_default() += ticks.saturating_sub(earlier);
    }
    let mut used: Vec<(String, String, u64)> = used
        .into_iter()
        .filter(|(_, ticks)| *ticks > 0)
        .map(|((part, name), ticks)| (part, name, ticks))
        .collect();
    used.sort_by_key(|entry| std::cmp::Reverse(entry.2));
    used
}

/// Clock ticks per second (USER_HZ): 100 on Linux.
pub const TICKS_PER_SECOND: f64 = 100.0;
