"""Published flows and their trees: rules, versions, history, the walk of a session, diff and diagram.

Modules and their public names:
- ``trees``: the tree structure's rules (``tree_problems``, ``validate_tree``, ``tree_warnings``,
  ``title_warnings``).
- ``versions``: storing an imported flow's version (``upsert_imported_flow``); the review workflow
  publishes through ``core.proposals.review``.
- ``catalog``: the flows list with usage figures and one flow's history (``flow_list``, ``flow_detail``,
  ``flow_names``).
- ``walk``: where a session stopped in its flow (``walk``, ``mark``), set at import.
- ``diff``: what changed between two trees (``tree_diff``, the stored form; ``diff_trees``, ``TreeDiff``).
- ``diagram``: a tree as a Graphviz diagram (``tree_to_dot``).
Depends on: ``core.accounts``, ``core.models``, ``core.storable``.
"""
