"""The update handlers. Each reads the matcher once per update, so a /genindlaes that swaps in a
new one never changes the knowledge base under a message that is already being answered.

``context.bot_data`` is the typed ``BotData`` (``faqbot.bot.context``): ``settings``, ``matcher``
and ``log``.
Words about answers come from ``faqbot.render``; the bot's own words from ``texts``.
"""

from __future__ import annotations

import logging
import re
import time
from html import escape
from typing import TYPE_CHECKING, cast

from telegram import BotCommandScopeChat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop

from faqbot import kb as kb_module
from faqbot import render
from faqbot import report as report_module
from faqbot.bot import delivery, digest, keyboards, replicas, texts
from faqbot.bot.addressing import (
    addressed_question,
    chat_kind,
    command_argument,
    cut_question,
    for_another_bot,
    is_admin,
    strip_mention,
)
from faqbot.bot.commands import COMMANDS, bot_commands
from faqbot.bot.context import BotContext
from faqbot.matcher import SAFETY_MAX_CHARS, Matcher, Status
from faqbot.questionlog import Counted, latest_unresolved

if TYPE_CHECKING:
    from faqbot.questionlog import QuestionLog
    from faqbot.settings import Settings

logger = logging.getLogger(__name__)

Context = BotContext

REPORT_DEFAULT_DAYS = 30
REPORT_MAX_DAYS = 3650
UNANSWERED_LIMIT = 20


# --- shared state ------------------------------------------------------------------------------


def _matcher(context: Context) -> Matcher:
    return context.bot_data.matcher


def _log(context: Context) -> QuestionLog:
    return context.bot_data.log


def _settings(context: Context) -> Settings:
    return context.bot_data.settings


def _user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def _is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


# --- questions ---------------------------------------------------------------------------------


async def answer_question(
    update: Update, context: Context, question: str, *, caption: bool = False
) -> None:
    """Match one question, log it, and reply with the rendered result and its keyboard.

    A ``caption`` (of a photo, a file) that matches nothing more likely points at the picture
    ("se her") than asks a question: it gets the hint that only text is read, and is not
    logged as an unanswered question."""
    message = update.effective_message
    if message is None:
        return
    asked = question  # logged whole: redaction must see a number the cut would split
    # the crisis check reads a whole Telegram message; the matcher cuts its own share
    question = cut_question(question, SAFETY_MAX_CHARS)
    if not question:
        await message.reply_text(texts.HINT_EMPTY)
        return
    matcher = _matcher(context)  # read once: a reload must not change kb mid-answer
    kb = matcher.kb
    started = time.perf_counter()
    result = matcher.match(question)
    latency_ms = (time.perf_counter() - started) * 1000
    if caption and result.status is Status.NO_MATCH:
        await message.reply_text(texts.HINT_NOT_TEXT)
        return
    question_id = _log(context).log_question(
        question=asked,
        status=result.status.value,
        item_id=result.item.id if result.item is not None else None,
        score=result.score,
        latency_ms=latency_ms,
        chat_kind=chat_kind(message.chat.type),
        user_id=_user_id(update),
        off_topic=result.off_topic,
        chat_id=message.chat.id,
    )
    markup = None
    if result.status is Status.ANSWERED and result.item is not None:
        markup = keyboards.answer_keyboard(kb, result.item, question_id)
    elif result.status is Status.CLARIFY and result.suggestions:
        items = [suggestion.item for suggestion in result.suggestions]
        markup = keyboards.clarify_keyboard(kb, items, question_id)
    elif result.status in (Status.NO_MATCH, Status.SMALLTALK):
        markup = keyboards.no_match_keyboard()
    await message.reply_text(render.result_html(result, kb), reply_markup=markup)


def not_from_the_asker(message: Message) -> bool:
    """A message that carries someone else's words, not a question to the bot: an inline
    bot's result (``via_bot``) or a channel post forwarded into its discussion group."""
    return message.via_bot is not None or bool(message.is_automatic_forward)


async def text_message(update: Update, context: Context) -> None:
    """A text that is not a command: a question in private chats; in groups only if addressed.
    A photo's or a file's caption is read the same way (a question or a crisis may be there)."""
    message = update.effective_message
    if message is None:
        return
    text = message.text if message.text is not None else message.caption
    if text is None or not_from_the_asker(message):
        return
    reply = message.reply_to_message
    question = addressed_question(
        text,
        chat_type=message.chat.type,
        bot_username=context.bot.username,
        reply_to_bot=bool(reply and reply.from_user and reply.from_user.id == context.bot.id),
    )
    if question is None:
        return
    if not question:
        hint = texts.HINT_NOT_TEXT if message.text is None else texts.HINT_EMPTY_MENTION
        await message.reply_text(hint)
        return
    await answer_question(update, context, question, caption=message.text is None)


async def ask(update: Update, context: Context) -> None:
    """/spoerg <question> (also /spoerg@BotName), the way to ask in a group."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await answer_question(update, context, command_argument(message.text))


async def other_message(update: Update, context: Context) -> None:
    """Stickers, photos, voice and the like: a one-line hint where the bot was addressed; a
    caption is read as a question (``text_message``)."""
    message = update.effective_message
    if message is None or not_from_the_asker(message):
        return
    if message.caption and message.caption.strip():
        await text_message(update, context)
        return
    if not _is_private(message):
        reply = message.reply_to_message
        to_bot = bool(reply and reply.from_user and reply.from_user.id == context.bot.id)
        mentioned = strip_mention(message.caption or "", context.bot.username) is not None
        if not (to_bot or mentioned):
            return
    await message.reply_text(texts.HINT_NOT_TEXT)


async def command_for_another_bot(update: Update, context: Context) -> None:
    """Runs before every other handler: a command addressed to another bot
    (``/spørg@otherbot``) stops here, so no handler of this bot answers it."""
    message = update.effective_message
    if message is not None and for_another_bot(message.text or "", context.bot.username):
        raise ApplicationHandlerStop


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have: point to /hjaelp in private chats, silence in groups."""
    message = update.effective_message
    if message is not None and _is_private(message):
        await message.reply_text(texts.UNKNOWN_COMMAND)


# --- information commands ----------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start: what the bot knows, that questions are logged without names, how to ask."""
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(texts.start(_matcher(context).kb, context.bot.username))
    user_id = _user_id(update)
    if (
        _is_private(message)
        and user_id is not None
        and is_admin(user_id, _settings(context).admin_ids)
    ):
        _log(context).record_leader_chat(user_id)  # the weekly digest can reach this leader
        # A leader's own menu can only be set once the leader has a chat with the bot.
        try:
            await context.bot.set_my_commands(
                bot_commands(COMMANDS), scope=BotCommandScopeChat(message.chat_id)
            )
        except TelegramError as error:
            logger.info("could not set a leader's command menu: %s", error)


async def help_command(update: Update, context: Context) -> None:
    """/hjaelp: how to ask and the commands (leaders also see theirs)."""
    if update.effective_message:
        admin = is_admin(_user_id(update), _settings(context).admin_ids)
        await update.effective_message.reply_text(texts.help_text(COMMANDS, admin=admin))


async def topics(update: Update, context: Context) -> None:
    """/emner: the categories as buttons."""
    if update.effective_message:
        kb = _matcher(context).kb
        await update.effective_message.reply_text(
            texts.TOPICS_LEAD, reply_markup=keyboards.topics_keyboard(kb)
        )


async def sources(update: Update, context: Context) -> None:
    """/kilder: the guides with title, publisher and year."""
    if update.effective_message:
        await update.effective_message.reply_text(render.sources_html(_matcher(context).kb))


async def privacy(update: Update, context: Context) -> None:
    """/privatliv: what is stored, for how long, and why."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.privacy(_settings(context)))


# --- buttons -----------------------------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """Every inline button: browsing, "Se også", clarify picks, "Ingen af dem" and votes."""
    query = update.callback_query
    if query is None:
        return
    action = keyboards.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    # The chat the button was pressed in (also known for a message too old to edit).
    chat_id = query.message.chat.id if query.message is not None else None
    if action is None or (message is None and not isinstance(action, keyboards.Vote)):
        await query.answer(texts.STALE_BUTTON)
        return
    kb = _matcher(context).kb
    match action:
        case keyboards.Vote(question_id, helpful):
            if chat_id is None:
                await query.answer(texts.STALE_BUTTON)
                return
            counted = await _log(context).record_vote(
                question_id=question_id, user_id=_user_id(update), helpful=helpful, chat_id=chat_id
            )
            asked_in = _chat_before_upgrade(context, chat_id)
            if counted is Counted.REFUSED and asked_in is not None:  # asked before the upgrade
                counted = await _log(context).record_vote(
                    question_id=question_id,
                    user_id=_user_id(update),
                    helpful=helpful,
                    chat_id=asked_in,
                )
            if counted is Counted.REFUSED:
                await query.answer(texts.STALE_BUTTON)
            elif counted is Counted.REPEATED:
                await query.answer(texts.ALREADY_VOTED)
            else:
                await query.answer(texts.VOTE_THANKS_UP if helpful else texts.VOTE_THANKS_DOWN)
        case keyboards.Topics():
            await query.answer()
            await _edit(message, texts.TOPICS_LEAD, keyboards.topics_keyboard(kb))
        case keyboards.CategoryRef(index, check):
            category = keyboards.resolve_category(kb, index, check)
            if category is None:
                await query.answer(texts.STALE_BUTTON)
                return
            await query.answer()
            await _edit(
                message, f"<b>{escape(category)}</b>", keyboards.category_keyboard(kb, category)
            )
        case keyboards.ItemRef(index, check):
            item = keyboards.resolve_item(kb, index, check)
            if item is None:
                await query.answer(texts.STALE_BUTTON)
                return
            await query.answer()
            await message.reply_text(  # type: ignore[union-attr]
                render.answer_html(item, kb),
                reply_markup=keyboards.answer_keyboard(kb, item, None),
                do_quote=False,
            )
        case keyboards.Pick(index, check, question_id):
            item = keyboards.resolve_item(kb, index, check)
            if item is None:
                await query.answer(texts.STALE_BUTTON)
                return
            counted = await _log(context).record_pick(
                question_id=question_id, item_id=item.id, user_id=_user_id(update), chat_id=chat_id
            )
            if counted is Counted.REFUSED:
                await query.answer(texts.STALE_BUTTON)
                return
            if counted is Counted.REPEATED:  # one answer per press, not one per click
                await query.answer(texts.ALREADY_PICKED)
                return
            await query.answer()
            await message.reply_text(  # type: ignore[union-attr]
                render.answer_html(item, kb),
                reply_markup=keyboards.answer_keyboard(kb, item, question_id),
                do_quote=False,
            )
        case keyboards.NoneOfThem():
            await query.answer()
            await message.reply_text(  # type: ignore[union-attr]
                escape(render.NO_MATCH_TEXT),
                reply_markup=keyboards.no_match_keyboard(),
                do_quote=False,
            )


def _chat_before_upgrade(context: Context, chat_id: int) -> int | None:
    """The group a supergroup was upgraded from, while this process knows it (``FaqBot``):
    a question asked there was logged under the group's id, its answer went to the new chat."""
    migrated = getattr(context.bot, "migrated", None) or {}
    return next((old for old, new in migrated.items() if new == chat_id), None)


async def _edit(message: Message | None, text: str, markup: InlineKeyboardMarkup) -> None:
    """Edit a keyboard message in place. Pressing the same button twice ("message is not
    modified"), a message deleted meanwhile ("message to edit not found") or one Telegram no
    longer lets the bot edit is no error: the press is answered, nothing else happens."""
    if message is None:
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        reason = str(error).lower()
        if "not modified" in reason:
            return
        if "to edit not found" in reason or "can't be edited" in reason:
            logger.info("a button's message could not be edited (%s); ignored", error)
            return
        raise


# --- leaders' commands -------------------------------------------------------------------------


async def _admin_allowed(update: Update, context: Context) -> bool:
    """Only leaders, and only in a private chat; everyone else gets a polite refusal."""
    message = update.effective_message
    if message is None:
        return False
    if not is_admin(_user_id(update), _settings(context).admin_ids):
        await message.reply_text(texts.NOT_ADMIN)
        return False
    if not _is_private(message):
        await message.reply_text(texts.ADMIN_PRIVATE_ONLY)
        return False
    return True


def parse_days(args: list[str] | None) -> int | None:
    """/rapport's optional day count: 30 by default, None when it is not 1..3650.

    Only ASCII digits: "²" and "٣" pass ``str.isdigit`` but are no day count."""
    if not args:
        return REPORT_DEFAULT_DAYS
    if len(args) != 1 or not re.fullmatch(r"[0-9]{1,5}", args[0]):
        return None
    days = int(args[0])
    return days if 1 <= days <= REPORT_MAX_DAYS else None


async def report(update: Update, context: Context) -> None:
    """/rapport [dage]: the report as messages, then its chart (as the weekly digest has it)."""
    if not await _admin_allowed(update, context):
        return
    message = cast(Message, update.effective_message)
    days = parse_days(context.args)
    if days is None:
        await message.reply_text(texts.REPORT_DAYS_INVALID)
        return
    built = await report_module.build_report(_log(context), days=days, kb=_matcher(context).kb)
    await digest.send_report(
        context.bot,
        message.chat_id,
        report_module.report_messages(built),
        await digest.report_chart(built),
        report_module.chart_caption(built),
    )


async def unanswered(update: Update, context: Context) -> None:
    """/ubesvarede: the latest questions the bot could not answer and nobody resolved by a
    pick (redacted; off-topic ones marked, terminal tests left out)."""
    if not await _admin_allowed(update, context):
        return
    log = _log(context)
    await log.flush()
    rows = await latest_unresolved(log.connection, limit=UNANSWERED_LIMIT)
    listing = [
        (
            row.asked_at.astimezone(report_module.LOCAL_TIME).strftime("%d.%m %H:%M"),
            report_module.display_text(row.text or "")
            + (texts.OFF_TOPIC_MARK if row.off_topic else ""),
        )
        for row in rows
    ]
    await cast(Message, update.effective_message).reply_text(texts.unanswered(listing))


async def reload_knowledge(update: Update, context: Context) -> None:
    """/genindlaes: load and validate off the event loop, then swap the matcher in one step."""
    if not await _admin_allowed(update, context):
        return
    message = cast(Message, update.effective_message)
    directory = _settings(context).knowledge_dir
    try:
        new_matcher = await replicas.load_matcher(directory)
    except kb_module.InvalidKnowledgeBase as error:
        logger.warning("reload refused: %d problem(s) in %s", len(error.problems), directory)
        await message.reply_text(texts.reload_failed(error.problems))
        return
    # One assignment; handlers read only the matcher (and its .kb), so the swap is atomic.
    context.bot_data.matcher = new_matcher
    new_kb = new_matcher.kb
    logger.info("knowledge base reloaded: %d items", len(new_kb.items))
    try:  # every other replica reloads too
        await replicas.announce_reload(context.bot_data)
    except Exception as error:
        logger.warning("could not tell other replicas about the reload: %s", error)
    await message.reply_text(texts.reload_ok(new_kb))


# --- errors ------------------------------------------------------------------------------------


def _can_apologise(update: object) -> bool:
    """Whether the bot tells this update's sender about an error (button or private chat)."""
    if not isinstance(update, Update):
        return False
    message = update.effective_message
    return update.callback_query is not None or (message is not None and _is_private(message))


async def on_error(update: object, context: Context) -> None:
    """Log a handler's error and keep running; tell the asker, unless the reply may have
    gone out after all.

    A network error while polling (no update) is one warning line. When Telegram did not take a
    reply even after the transport's retries, the update is handed back to the inbox and answered
    again later if a request may have reached Telegram (it was sent, the answer was lost: a
    duplicate is acceptable, an apology next to a late answer is not) or if there is nobody to
    apologise to (a group). Otherwise the asker gets the apology; if that fails too, the update is
    handed back.
    """
    error = context.error
    if update is None and isinstance(error, NetworkError):
        logger.warning("Telegram unreachable while polling, retrying: %s", error)
        return
    if isinstance(error, Forbidden):  # blocked by the user, kicked from the group: nobody to
        # tell, and trying again would only be refused again
        logger.info("the chat refuses the bot (%s); the update is done", error)
        return
    if isinstance(error, InvalidToken):  # revoked: stop, the update waits in the inbox
        delivery.hand_back()
        bot_delivery = context.bot_data.delivery
        if bot_delivery is not None:
            bot_delivery.give_up(delivery.TOKEN_REVOKED)
        return
    transient = error is not None and delivery.is_transient(error)
    if (
        transient
        and (delivery.reply_maybe_delivered() or not _can_apologise(update))
        and delivery.hand_back()
    ):
        logger.warning("Telegram did not take a reply (%s); it will be sent again later", error)
        return
    if transient:
        logger.warning("Telegram did not take a reply after every retry: %s", error)
    else:
        logger.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or not _can_apologise(update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.ERROR)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(texts.ERROR)
    except TelegramError as apology_error:
        if delivery.is_transient(apology_error) and delivery.hand_back():
            logger.warning("could not apologise either (%s); trying again later", apology_error)
        else:
            logger.warning("could not tell the user about the error: %s", apology_error)
