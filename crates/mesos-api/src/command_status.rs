//! How the Mesos command executor words the end of a command
//! (`WSTRINGIFY` in `stout/os/wait.hpp`, in the TASK_FINISHED, TASK_FAILED
//! and TASK_KILLED messages of `src/launcher/executor.cpp`): "Command exited
//! with status 3", "Command terminated with signal Terminated". Signal names
//! are glibc's `strsignal` texts, as real agents on Linux print them.

/// The message for a process that exited with `code`, or was ended by
/// `signal` (exactly one of them is set by a wait status).
pub fn command_status_message(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("Command exited with status {code}"),
        (None, Some(signal)) => format!("Command terminated with signal {}", signal_name(signal)),
        (None, None) => "Command terminated".to_string(),
    }
}

/// glibc's `strsignal` for the Linux signals.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "Hangup",
        2 => "Interrupt",
        3 => "Quit",
        4 => "Illegal instruction",
        5 => "Trace/breakpoint trap",
        6 => "Aborted",
        7 => "Bus error",
        8 => "Floating point exception",
        9 => "Killed",
        10 => "User defined signal 1",
        11 => "Segmentation fault",
        12 => "User defined signal 2",
        13 => "Broken pipe",
        14 => "Alarm clock",
        15 => "Terminated",
        _ => return format!("Unknown signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_the_command_executor() {
        assert_eq!(
            command_status_message(Some(3), None),
            "Command exited with status 3"
        );
        assert_eq!(
            command_status_message(None, Some(15)),
            "Command terminated with signal Terminated"
        );
        assert_eq!(
            command_status_message(None, Some(9)),
            "Command terminated with signal Killed"
        );
        assert_eq!(signal_name(64), "Unknown signal 64");
    }
}
