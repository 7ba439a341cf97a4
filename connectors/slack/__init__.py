"""Slack: notifications posted through the Web API (slack-sdk), slash commands verified with the app's
signing secret, and the `/firmsync status` answer. Events and interactivity arrive through
`connectors.webhooks.slack` as before."""
