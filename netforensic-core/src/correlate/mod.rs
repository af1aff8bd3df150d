//! Attribution: flows x socket snapshots x process metadata inside the capture.
