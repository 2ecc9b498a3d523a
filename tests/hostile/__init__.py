"""The hostile-input corpus, the platform it is sent to, and the prober that counts."""
