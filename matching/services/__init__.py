"""State changes for mentorships, one function each, called by pages, the API and tasks.

Each locks the rows it changes, checks the model's guard, saves, writes the audit
entry and notifies people once the transaction commits. Errors a person can act on
are raised as ``django.core.exceptions.ValidationError`` with a message for them.
"""
