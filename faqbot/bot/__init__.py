"""The Telegram bot: a python-telegram-bot 22 application over the matcher, render and question log.

``app.build_application`` wires every handler in one place; ``handlers`` holds the handlers,
``keyboards`` the inline keyboards and their compact callback data, ``commands`` the one table
behind the command menu and /hjaelp, ``texts`` the bot's own (Danish) messages, and ``addressing``
the pure rules for when a group message is meant for the bot.
"""
