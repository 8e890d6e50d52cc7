"""Measuring trained and untrained nets: per-layer gradient and ReLU statistics, probes of what the
layers keep, the width sweep, and the measurement job.
"""
