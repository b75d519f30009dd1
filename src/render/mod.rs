//! Plan renderings.
