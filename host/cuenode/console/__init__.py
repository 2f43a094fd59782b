"""The show console: one link to every node of the rig, their cue lists kept in step
(docs/console.md). `rules` decides, `links` talks to the nodes, `console` ties them together."""
