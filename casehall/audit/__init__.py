"""Auditors' tools: hash-chain verification and anchors, timelines, history archive, replay checks, exports."""
