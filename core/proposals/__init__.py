"""Flow proposals once the analysis has written them: the review queue, the decisions, the audit trail.

Modules and their public names:
- ``review``: the review services (``approve``, ``edit_and_publish``, ``dismiss``, ``reject``), one unit of
  work each, audited, with their domain exceptions (``ProposalAlreadyReviewed``, ``ProposalChanged``, ...).
- ``queue``: what the review queue reads (``review_queue``, ``proposal_detail``).
- ``listing``: what ``python -m core proposals`` prints (``list_proposals``).
- ``waiting``: how many proposals wait for review and the first few, for Home (``waiting_proposals``).
- ``activity``: the audit log read back: review decisions and threshold changes (``activity``,
  ``activity_entry``, ``activity_table``).
Depends on: ``core.analysis``, ``core.flows``, ``core.sessions``, ``core.gaps``, ``core.impact``,
``core.accounts``. The analysis (``core.analysis``) writes proposals; nothing here runs it.
"""
