//! ptcpdump's packet comments (mozillazg/ptcpdump `internal/writer/pcapng.go`): one pcapng
//! comment per context, each a few `Key: value` lines:
//! `PID: 123\nCmd: /usr/bin/curl\nArgs: curl example.com`, `ThreadId: ..\nThreadName: ..`,
//! `UserId: 1000[\nGroupId: ..]`, `ParentPID: ..\nParentCmd: ..\nParentArgs: ..`,
//! `ContainerName: ..`, `PodName: ..`. Only the process and user lines say who owned the packet.

/// A comment value longer than this is cut (at a character boundary): a hostile capture must
/// not make every flow hold megabytes of "command line".
pub const MAX_COMMENT_VALUE: usize = 4096;

/// The process fields found in one packet's comments, borrowed from them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommentProcess<'a> {
    pub pid: Option<u32>,
    pub cmd: Option<&'a str>,
    pub args: Option<&'a str>,
    pub user_id: Option<&'a str>,
}

/// Read the process fields from a packet's comments. `pid` is `None` when no comment has a
/// `PID:` line (the other fields are then meaningless and left unset).
pub fn parse_comments<'a>(comments: &'a [String]) -> CommentProcess<'a> {
    let mut found = CommentProcess::default();
    for comment in comments {
        for line in comment.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = bounded(value.trim());
            match key.trim() {
                // The pid is the first word: tolerate producers that put more on the line.
                "PID" if found.pid.is_none() => {
                    found.pid = value.split_whitespace().next().and_then(|w| w.parse().ok())
                }
                "Cmd" if found.cmd.is_none() => found.cmd = non_empty(value),
                "Args" if found.args.is_none() => found.args = non_empty(value),
                "UserId" if found.user_id.is_none() => found.user_id = non_empty(value),
                _ => {}
            }
        }
    }
    if found.pid.is_none() {
        return CommentProcess::default();
    }
    found
}

/// The program name from a command path: `/usr/bin/curl` -> `curl`.
pub fn program_name(cmd: &str) -> &str {
    cmd.rsplit('/').next().unwrap_or(cmd)
}

fn non_empty(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

fn bounded(value: &str) -> &str {
    if value.len() <= MAX_COMMENT_VALUE {
        return value;
    }
    let mut end = MAX_COMMENT_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn curl_thread_comments() {
        // Frame 1 of corpus process/ptcpdump_curl-thread.pcapng, as tshark shows its three
        // comments.
        let comments = strings(&[
            "PID: 122868\nCmd: /usr/bin/curl\nArgs: curl kernel.com",
            "ThreadId: 122868\nThreadName: curl",
            "ParentPID: 53229\nParentCmd: /usr/bin/bash\nParentArgs: -bash",
        ]);
        let p = parse_comments(&comments);
        assert_eq!(p.pid, Some(122868));
        assert_eq!(p.cmd, Some("/usr/bin/curl"));
        assert_eq!(p.args, Some("curl kernel.com"));
        assert_eq!(p.user_id, None);
        assert_eq!(program_name(p.cmd.unwrap()), "curl");
    }

    #[test]
    fn user_comment() {
        let comments = strings(&[
            "PID: 99722\nCmd: /usr/bin/curl\nArgs: curl https://kernel.org",
            "UserId: 1000",
            "ParentPID: 18840\nParentCmd: /usr/bin/bash\nParentArgs: -bash",
        ]);
        let p = parse_comments(&comments);
        assert_eq!(p.pid, Some(99722));
        assert_eq!(p.user_id, Some("1000"));
    }

    #[test]
    fn parent_pid_alone_is_not_an_owner() {
        let comments = strings(&["ParentPID: 1\nParentCmd: /sbin/init"]);
        assert_eq!(parse_comments(&comments), CommentProcess::default());
    }

    #[test]
    fn pid_followed_by_more_text_on_its_line() {
        let comments = strings(&["PID: 42 Cmd: curl"]);
        assert_eq!(parse_comments(&comments).pid, Some(42));
    }

    #[test]
    fn garbage_is_ignored() {
        let comments = strings(&["PID: -5\nCmd: x", "svc BE, in", "PID: 99999999999999"]);
        assert_eq!(parse_comments(&comments).pid, None);
        let long = format!("PID: 1\nArgs: {}", "é".repeat(5000));
        let comments = vec![long];
        let p = parse_comments(&comments);
        assert!(p.args.unwrap().len() <= MAX_COMMENT_VALUE);
    }
}
