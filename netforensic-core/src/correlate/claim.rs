//! A process claim: one piece of evidence that a given process owned one end of a flow, and
//! where that evidence came from.

use crate::report::ProcessRef;
use serde::Serialize;

/// Where in-capture process evidence came from, strongest first (the order decides which
/// source names the `evidence` when several agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InCaptureSource {
    /// Apple PKTAP header (`tcpdump -k` on macOS, link types 149/258).
    Pktap,
    /// Darwin Process Information Block referenced by the packet's EPB options.
    DarwinPib,
    /// pcapng `epb_processid_threadid` option.
    EpbPid,
    /// ptcpdump's `PID: ..` packet comments.
    PtcpdumpComment,
}

impl InCaptureSource {
    /// The `evidence` token of DESIGN.md 4.2.
    pub fn as_str(self) -> &'static str {
        match self {
            InCaptureSource::Pktap => "pktap",
            InCaptureSource::DarwinPib => "darwin_pib",
            InCaptureSource::EpbPid => "epb_pid",
            InCaptureSource::PtcpdumpComment => "ptcpdump_comment",
        }
    }
}

/// A process the capture itself says owned one end of a flow. Strings are owned and raw
/// (attacker-controlled): writers escape them for their sink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessClaim {
    pub source: InCaptureSource,
    pub pid: u32,
    pub name: Option<String>,
    pub exe: Option<String>,
    pub cmdline: Option<String>,
    pub user: Option<String>,
    /// The effective (delegating) process, when the producer names one (PKTAP `pth_epid`,
    /// Darwin effective process index): the app on whose behalf a daemon sent the packet.
    pub effective_pid: Option<u32>,
    pub effective_name: Option<String>,
}

impl ProcessClaim {
    pub fn new(source: InCaptureSource, pid: u32) -> Self {
        ProcessClaim {
            source,
            pid,
            name: None,
            exe: None,
            cmdline: None,
            user: None,
            effective_pid: None,
            effective_name: None,
        }
    }

    /// Two claims agree when they name the same process, or one names the other as its
    /// effective (delegate) process: that is one activity seen from two angles, not a conflict.
    pub fn agrees_with(&self, other: &ProcessClaim) -> bool {
        self.pid == other.pid
            || self.effective_pid == Some(other.pid)
            || other.effective_pid == Some(self.pid)
            || (self.effective_pid.is_some() && self.effective_pid == other.effective_pid)
    }

    /// Fill fields this claim lacks from another claim about the same pid.
    pub fn enrich_from(&mut self, other: &ProcessClaim) {
        if other.pid != self.pid {
            return;
        }
        if other.source < self.source {
            self.source = other.source;
        }
        fill(&mut self.name, &other.name);
        fill(&mut self.exe, &other.exe);
        fill(&mut self.cmdline, &other.cmdline);
        fill(&mut self.user, &other.user);
        if self.effective_pid.is_none() {
            self.effective_pid = other.effective_pid;
            fill(&mut self.effective_name, &other.effective_name);
        }
    }

    /// The claim as a flow's `process` object, with quality `in_capture`.
    pub fn to_process_ref(&self) -> ProcessRef {
        ProcessRef {
            pid: Some(self.pid),
            name: self.name.clone(),
            exe: self.exe.clone(),
            cmdline: self.cmdline.clone(),
            user: self.user.clone(),
            evidence: self.source.as_str().to_string(),
            quality: crate::correlate::Quality::InCapture.as_str().to_string(),
        }
    }
}

fn fill(slot: &mut Option<String>, from: &Option<String>) {
    if slot.is_none() {
        slot.clone_from(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegate_relation_is_agreement() {
        let mut daemon = ProcessClaim::new(InCaptureSource::Pktap, 100);
        daemon.effective_pid = Some(200);
        let app = ProcessClaim::new(InCaptureSource::Pktap, 200);
        assert!(daemon.agrees_with(&app));
        assert!(app.agrees_with(&daemon));
        let other = ProcessClaim::new(InCaptureSource::Pktap, 300);
        assert!(!daemon.agrees_with(&other));
    }

    #[test]
    fn enrich_fills_only_missing_fields() {
        let mut a = ProcessClaim::new(InCaptureSource::PtcpdumpComment, 7);
        a.name = Some("curl".into());
        let mut b = ProcessClaim::new(InCaptureSource::EpbPid, 7);
        b.name = Some("other".into());
        b.exe = Some("/usr/bin/curl".into());
        a.enrich_from(&b);
        assert_eq!(a.name.as_deref(), Some("curl"));
        assert_eq!(a.exe.as_deref(), Some("/usr/bin/curl"));
        assert_eq!(a.source, InCaptureSource::EpbPid);
    }
}
