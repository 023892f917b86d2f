"""The report: who kept messaging after an unsubscribe (analysis, policies, renderers, evidence)."""
