"""The 12345 hotline order (工单): the same practice as the hall case, built from the same blocks (recorder, actions,
approval with escalation, deadline with reminders, the working-day clock)."""
