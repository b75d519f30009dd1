//! A Mesos-compatible master emulator (work in progress).
