"""``smartdc image`` (``img``): list and manage images, as ``triton image`` does.

Behaviour follows node-triton lib/do_image/*.js and the image calls of lib/tritonapi.js;
each handler notes where it differs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: Where a command says what its IMAGE argument may be (all image commands share it).
IMAGE_ARG_HELP = (
    'Where "IMAGE" is an image id (a full UUID), an image name (selects the latest, by\n'
    '"published_at", image with that name), an image "name@version" (selects the latest\n'
    'match by "published_at"), or an image short ID (ID prefix).'
)


# --- shared helpers ----------------------------------------------------------------------------


def add_json(parser: ArgParser, help: str = "JSON stream output.") -> None:
    """``-j/--json`` for commands that print one object."""
    parser.add_argument("-j", "--json", action="store_true", help=help)


# --- list --------------------------------------------------------------------------------------

#: ListImages filters triton passes through (do_image/do_list.js ``validFilters``).
LIST_FILTERS = ("name", "os", "version", "public", "state", "owner", "type")
LIST_COLUMNS = "shortid,name,version,flags,os,type,pubdate"
LIST_LONG_COLUMNS = "id,name,version,state,flags,os,type,pubdate"

_LIST_HELP = """\
List images.

Filters:
    FIELD=VALUE        Equality filter. Supported fields: owner, state, name, os,
                       version and type.
    FIELD=true|false   Boolean filter. Supported fields: public.
    FIELD=~SUBSTRING   Substring filter. Supported fields: name

Fields ("*" marks fields added client-side):
    shortid*           A short ID prefix.
    flags*             Single letter flags summarizing some fields:
                           "I" an incremental image (i.e. has an origin)
                           "P" image is public
                           "X" has a state *other* than "active"
                           "+" you are sharing this image with others
                           "S" this image has been shared with you
    pubdate*           Short form of "published_at" with just the date
    pub*               Short form of "published_at" without milliseconds
    size*              The number of bytes of the image file (files.0.size)

Docker images are not listed; use `docker images` against the Docker service."""


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] [FILTERS]")
    parser.add_argument(
        "-a",
        "--all",
        action="store_true",
        help='List all images, not just "active" ones (same as the "state=all" filter).',
    )
    output.add_table_options(parser, sort_default="published_at")
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListImages with the filters given; the account is read only for the sharing flags."""
    from smartdc.cli import humanize
    from smartdc.cli.args import filter_params, key_values

    filters = key_values(options.filters, valid_keys=LIST_FILTERS, convert=False, dotted=False)
    if options.all:
        filters["state"] = "all"
    api = context.api
    images = api.list_images(**filter_params(filters))
    if options.json or options.json_array:
        output.print_list(context, options, images, columns=LIST_COLUMNS)
        return
    account_id = None
    if humanize.images_need_account(images):
        account_id = str(api.get_account()["id"])
    rows = [humanize.add_image_fields(img, account_id) for img in images]
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


LIST = Command(
    "list", "List images.", do_list, _configure_list, aliases=("ls",), description=_LIST_HELP
)


# --- get ---------------------------------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] IMAGE")
    add_json(parser)
    parser.add_argument(
        "-a",
        "--all",
        action="store_true",
        help="Include all images when matching by name or short ID, not just active ones.",
    )
    add_positionals(parser, "IMAGE")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one image (indented JSON, one line with ``-j``)."""
    from smartdc.cli import resolve

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    img = resolve.image(context.api, options.args[0], include_inactive=options.all)
    output.print_object(context, options, img)


GET = Command(
    "get",
    "Get an image.",
    do_get,
    _configure_get,
    description=f"Get an image.\n\n{IMAGE_ARG_HELP}",
)


# --- create ------------------------------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST IMAGE-NAME IMAGE-VERSION")
    group = parser.add_argument_group("Create options")
    group.add_argument("-d", "--description", metavar="DESC", help="A short description.")
    group.add_argument("--homepage", metavar="URL", help="A homepage URL for the image.")
    group.add_argument(
        "--eula", metavar="DESC", help="A URL for an End User License Agreement (EULA)."
    )
    group.add_argument(
        "--acl",
        action="append",
        metavar="ID",
        help="The id of an account to give access to this private image (repeatable).",
    )
    group.add_argument(
        "-t",
        "--tag",
        action="append",
        metavar="TAG",
        help='A tag: "key=value" (bool and numeric values are converted), a JSON object '
        '(first char "{") or "@FILE" to load tags from FILE. Repeatable.',
    )
    other = parser.add_argument_group("Other options")
    other.add_argument(
        "--dry-run", action="store_true", help="Go through the motions without creating."
    )
    other.add_argument(
        "-w", "--wait", action="count", default=0, help="Wait for the creation to complete."
    )
    other.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser)


def _image_failure(img: Mapping[str, Any]) -> str:
    error = img.get("error")
    detail = ""
    if isinstance(error, Mapping):
        detail = f": ({error.get('code')}) {error.get('message')}"
    return (
        f"failed to create image {img.get('id')} ({img.get('name')}@{img.get('version')}){detail}"
    )


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateImageFromMachine (the instance must be stopped), then with ``-w`` poll the
    image until it is active or failed."""
    import time

    from smartdc.cli import failures, humanize, resolve, values
    from smartdc.cli.failures import CommandError

    if len(options.args) != 3:
        raise UsageError(f"incorrect number of args: expect 3, got {len(options.args)}")
    inst_text, name, version = options.args
    api = context.api
    tags = values.values_from_options(context, "tag", options.tag)
    for account in options.acl or ():
        if not resolve.is_uuid(account):
            raise UsageError(f'invalid --acl: "{account}" is not a UUID')
    inst: Mapping[str, Any] = (
        {"id": inst_text} if resolve.is_uuid(inst_text) else resolve.instance(api, inst_text)
    )
    if options.dry_run:
        # triton shows a made-up instance here; the one looked up is more use
        named = f" ({inst['name']})" if inst.get("name") else ""
        context.out(f"Creating image {name}@{version} from instance {inst['id']}{named}")
        return
    started = time.monotonic()
    with failures.failing_as("error creating image"):
        img = api.create_image_from_machine(
            machine=str(inst["id"]),
            name=name,
            version=version,
            description=options.description,
            homepage=options.homepage,
            eula=options.eula,
            acl=options.acl,
            tags=tags,
        )
    if options.json:
        output.print_object(context, options, img)
    else:
        context.out(f"Creating image {img['name']}@{img['version']} ({img['id']})")
    if not options.wait:
        return
    final = waiting.poll(
        context,
        lambda: api.get_image(str(img["id"])),
        lambda current: current.get("state") in ("active", "failed"),
        describe=f"image {img['name']}@{img['version']} to be created",
        status=lambda current: str(current.get("state")),
        timeout=waiting.wait_timeout(options),
    )
    if options.json:
        output.print_object(context, options, final)
    elif final.get("state") == "active":
        took = humanize.human_duration(round((time.monotonic() - started) * 1000))
        context.out(f"Created image {final['id']} ({final['name']}@{final['version']}) in {took}")
    if final.get("state") != "active":
        raise CommandError(_image_failure(final))


CREATE = Command(
    "create",
    "Create a new image from an existing instance.",
    do_create,
    _configure_create,
    description=(
        "Create a new image from an existing instance.\n\n"
        'Where "INST" is an instance name, id, or short id. The instance must be stopped.'
    ),
)


# --- delete ------------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] IMAGE [IMAGE ...]")
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    add_positionals(parser, "IMAGE")


def _repr(img: Mapping[str, Any]) -> str:
    """``<id> (<name>@<version>)``, as triton's ``imageRepr``."""
    from smartdc.cli.table import js_string

    return f"{img.get('id')} ({js_string(img.get('name'))}@{js_string(img.get('version'))})"


def do_delete(context: Context, options: argparse.Namespace) -> int | None:
    """Look the images up (all at once), confirm unless ``-f``, then DeleteImage each in
    turn."""
    from smartdc.cli import resolve
    from smartdc.cli.batch import each
    from smartdc.cli.failures import CommandError
    from smartdc.cli.prompt import go_ahead
    from smartdc.errors import CloudAPIError

    if not options.args:
        raise UsageError("missing IMAGE arg(s)")
    api = context.api

    def look_up(text: str) -> tuple[str, str] | None:
        if resolve.is_uuid(text):
            return text, text
        try:
            img = resolve.image(api, text, include_inactive=True)
        except CloudAPIError as exc:
            if exc.status == 404:
                return None
            raise
        return str(img["id"]), _repr(img)

    # An unknown name fails the lookups ("first of N errors: ..."), as in triton; only a
    # 404 from CloudAPI counts as missing.
    found = each(options.args, look_up)
    missing = [text for text, hit in zip(options.args, found, strict=True) if hit is None]
    if missing:
        noun = "image" if len(missing) == 1 else "images"
        raise CommandError(f"no such {noun}: {', '.join(missing)}")
    targets: dict[str, str] = dict(hit for hit in found if hit is not None)
    if len(targets) == 1:
        question = f"Delete image {next(iter(targets.values()))}? [y/n] "
    else:
        question = f"Delete {len(targets)} images? [y/n] "
    if not go_ahead(context, question, skip=options.force):
        return None
    for image_id, shown in targets.items():
        api.delete_image(image_id)
        context.out(f"Deleted image {shown}")
    return None


DELETE = Command(
    "delete",
    "Delete one or more images.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=f"Delete one or more images.\n\n{IMAGE_ARG_HELP}",
)


# --- clone, copy, export -----------------------------------------------------------------------


def _configure_one_image(synopsis: str, what: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        set_usage(parser, synopsis)
        group = parser.add_argument_group("Other options")
        group.add_argument(
            "--dry-run",
            action="store_true",
            help=f"Go through the motions without actually {what}.",
        )
        group.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
        add_positionals(parser)

    return configure


def do_clone(context: Context, options: argparse.Namespace) -> None:
    """CloneImage: an image shared with the account becomes one it owns."""
    from smartdc.cli import failures, resolve

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args: expected 1, got {len(options.args)}")
    if options.dry_run:
        return
    text = options.args[0]
    api = context.api
    with failures.failing_as("error cloning image"):
        img = resolve.image(api, text, include_inactive=True)
        clone = api.clone_image(str(img["id"]))
    if options.json:
        output.print_object(context, options, clone)
    else:
        context.out(f"Cloned image {text} to {_repr(clone)}")


CLONE = Command(
    "clone",
    "Clone a shared image.",
    do_clone,
    _configure_one_image("[OPTIONS] IMAGE", "cloning"),
    description=f"Clone a shared image.\n\n{IMAGE_ARG_HELP}\n\nOnly shared images can be cloned.",
)


def _target_api(context: Context, url: str) -> Any:
    """A client for another datacenter of the cloud, with the same credentials."""
    from smartdc._socket_sender import SocketSender
    from smartdc.api import CloudAPI

    settings = context.settings
    verify: bool | str = False if settings.insecure else settings.ca_bundle or True
    return CloudAPI(
        url,
        settings.account,
        key_id=context.api.key_id,
        signer=context.api.signer,
        user=settings.user,
        act_as=settings.act_as,
        roles=settings.roles,
        sender=SocketSender(url, verify=verify),
        debug=context.streams.stderr if context.verbose else False,
    )


def do_copy(context: Context, options: argparse.Namespace) -> None:
    """Copy an owned image to another datacenter: ImportImageFromDatacenter is called on the
    target datacenter (found with ListDatacenters), naming this one as the source."""
    from smartdc.cli import failures, resolve
    from smartdc.cli.failures import CommandError

    if len(options.args) != 2:
        raise UsageError(f"incorrect number of args: expected 2, got {len(options.args)}")
    if options.dry_run:
        return
    text, datacenter = options.args
    api = context.api
    with failures.failing_as("error copying image"):
        img = resolve.image(api, text, include_inactive=True)
        datacenters = api.list_datacenters()
        response = api.last_response
        if datacenter not in datacenters:
            raise CommandError(
                f'"{datacenter}" is not a valid datacenter name, possible names are: '
                + ", ".join(datacenters)
            )
        # the header came with image copying (CloudAPI 9.2.0)
        here = response.headers.get("triton-datacenter-name") if response else None
        if not here:
            server = response.headers.get("server") if response else None
            raise CommandError(f"this datacenter does not support image copying ({server})")
        with _target_api(context, datacenters[datacenter]) as target:
            copied = target.import_image_from_datacenter(datacenter=here, id=str(img["id"]))
    if options.json:
        output.print_object(context, options, copied)
    else:
        context.out(f"Copied image {_repr(copied)} to datacenter {datacenter}")


COPY = Command(
    "copy",
    "Copy image to another datacenter.",
    do_copy,
    _configure_one_image("[OPTIONS] IMAGE DATACENTER", "copying"),
    aliases=("cp",),
    description=(
        f"Copy image to another datacenter.\n\n{IMAGE_ARG_HELP}\n"
        "You must own the image (`smartdc image clone` makes your own copy of a shared one).\n\n"
        '"DATACENTER" is the name of the datacenter to copy the image to (see\n'
        "`smartdc datacenters`)."
    ),
)


def do_export(context: Context, options: argparse.Namespace) -> None:
    """ExportImage to a Manta path."""
    from smartdc.cli import failures, resolve
    from smartdc.cli.table import js_string

    if len(options.args) != 2:
        raise UsageError(f"incorrect number of args: expect 2, got {len(options.args)}")
    text, manta_path = options.args
    context.out(f"Exporting image {text} to {manta_path}")
    if options.dry_run:
        return  # triton crashes here, printing what was never exported
    api = context.api
    with failures.failing_as("error exporting image to manta"):
        img = resolve.image(api, text, include_inactive=True)
        info = api.export_image(str(img["id"]), manta_path)
    if options.json:
        output.print_object(context, options, info)
        return
    context.out(f"    Manta URL: {js_string(info.get('manta_url'))}")
    context.out(f"Manifest path: {js_string(info.get('manifest_path'))}")
    context.out(f"   Image path: {js_string(info.get('image_path'))}")


EXPORT = Command(
    "export",
    "Export an image.",
    do_export,
    _configure_one_image("[OPTIONS] IMAGE MANTA_PATH", "exporting"),
    description=(
        f"Export an image to Manta.\n\n{IMAGE_ARG_HELP}\n\n"
        "Only images owned by the account can be exported."
    ),
)


# --- share, unshare ----------------------------------------------------------------------------


def _change_acl(context: Context, options: argparse.Namespace, *, share: bool) -> None:
    from smartdc.cli import failures, resolve
    from smartdc.cli.failures import CommandError

    if len(options.args) != 2:
        raise UsageError(f"incorrect number of args: expect 2, got {len(options.args)}")
    if options.dry_run:
        return
    text, account = options.args
    api = context.api
    with failures.failing_as("error sharing image" if share else "error unsharing image"):
        img = resolve.image(api, text, include_inactive=True)
        acl = [str(a) for a in img.get("acl") or ()]
        if share:
            if account not in acl:
                acl.append(account)
        elif account in acl:
            acl.remove(account)
        else:
            raise CommandError(f"image is not shared with {account}")
        updated = api.update_image(str(img["id"]), acl=acl)
    if options.json:
        output.print_object(context, options, updated)
    elif share:
        context.out(f"Shared image {text} with account {account}")
    else:
        context.out(f"Unshared image {text} with account {account}")


def do_share(context: Context, options: argparse.Namespace) -> None:
    """Add an account to the image's ACL (UpdateImage)."""
    _change_acl(context, options, share=True)


def do_unshare(context: Context, options: argparse.Namespace) -> None:
    """Remove an account from the image's ACL (UpdateImage)."""
    _change_acl(context, options, share=False)


SHARE = Command(
    "share",
    "Share an image with another account.",
    do_share,
    _configure_one_image("[OPTIONS] IMAGE ACCOUNT", "sharing"),
    description=(
        f"Share an image with another account.\n\n{IMAGE_ARG_HELP}\n\n"
        'Where "ACCOUNT" is the full account UUID. Only owned images can be shared.'
    ),
)

UNSHARE = Command(
    "unshare",
    "Unshare an image with another account.",
    do_unshare,
    _configure_one_image("[OPTIONS] IMAGE ACCOUNT", "unsharing"),
    description=(
        f"Unshare an image with another account.\n\n{IMAGE_ARG_HELP}\n\n"
        'Where "ACCOUNT" is the full account UUID. Only owned images can be unshared.'
    ),
)


# --- update, tag -------------------------------------------------------------------------------

#: What ``image update`` may change, by JavaScript type (cloudapi2.js UPDATE_IMAGE_FIELDS,
#: less ``acl``, which share/unshare change).
UPDATE_FIELDS = {
    "name": "string",
    "version": "string",
    "description": "string",
    "homepage": "string",
    "eula": "string",
    "tags": "object",
}


def do_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateImage with ``FIELD=VALUE`` arguments (string fields are never converted)."""
    from smartdc.cli import resolve
    from smartdc.cli.values import update_data

    if not options.args:
        raise UsageError("missing IMAGE argument")
    text, *pairs = options.args
    data = update_data(context, None, pairs, UPDATE_FIELDS, "image")
    if isinstance(data.get("tags"), list):
        raise UsageError('field "tags" must be of type "object", but got an array')
    if options.dry_run:
        return
    api = context.api
    img = resolve.image(api, text, include_inactive=True)
    updated = api.update_image(str(img["id"]), **data)
    if options.json:
        output.print_object(context, options, updated)
    else:
        context.out(f"Updated image {text} (fields: {', '.join(data)})")


UPDATE = Command(
    "update",
    "Update an image.",
    do_update,
    _configure_one_image("IMAGE [FIELD=VALUE ...]", "updating"),
    description=(
        "Update an image.\n\nUpdateable fields:\n    "
        + "\n    ".join(f"{name} ({kind})" for name, kind in sorted(UPDATE_FIELDS.items()))
        + f"\n\n{IMAGE_ARG_HELP}\n\nOnly images owned by the account can be updated."
    ),
)


def do_tag(context: Context, options: argparse.Namespace) -> None:
    """Replace the image's tags (UpdateImage ``tags``)."""
    from smartdc.cli import failures, resolve, table
    from smartdc.cli.values import ValueSet

    if not options.args:
        raise UsageError("incorrect number of args")
    text, *pairs = options.args
    gathered = ValueSet(context, "tag")
    for pair in pairs:
        gathered.add_pair(pair)
    tags = gathered.result()
    if tags is None:
        raise UsageError("Incorrect number of args: must specify at least one NAME=VALUE tag pair")
    if options.dry_run:
        return
    api = context.api
    with failures.failing_as("error updating image tags"):
        img = resolve.image(api, text, include_inactive=True)
        updated = api.update_image(str(img["id"]), tags=tags)
    if options.json:
        output.print_object(context, options, updated)
    else:
        context.out(f"Updated image {text} with tags {table.json_stringify(tags)}")


TAG = Command(
    "tag",
    "Set new image tags, removes existing tags.",
    do_tag,
    _configure_one_image("[OPTIONS] IMAGE [NAME=VALUE ...]", "tagging"),
    description=(
        f"Set new image tags, replacing the existing ones.\n\n{IMAGE_ARG_HELP}\n\n"
        "NAME is a tag name, VALUE its value. Only owned images can be tagged."
    ),
)


# --- wait --------------------------------------------------------------------------------------


def _configure_wait(parser: ArgParser) -> None:
    set_usage(parser, "[-s STATES] IMAGE [IMAGE ...]")
    parser.add_argument(
        "-s",
        "--states",
        action="append",
        metavar="STATES",
        help='Image states on which to wait. Default is "active,failed". Values can be '
        "comma-separated or multiple uses of the option.",
    )
    add_positionals(parser, "IMAGE")


def do_wait(context: Context, options: argparse.Namespace) -> None:
    """Wait for images to reach one of the states (GetImage every second, no deadline in
    triton; here one hour)."""
    import re

    from smartdc.cli import resolve
    from smartdc.cli.batch import each

    if not options.args:
        raise UsageError("missing IMAGE arg(s)")
    states: list[str] = []
    for value in options.states or ["active", "failed"]:
        states.extend(re.split(r"\s*,\s*", value.strip()))
    api = context.api
    total = len(options.args)
    images = each(options.args, lambda text: resolve.image(api, text, include_inactive=True))
    done = 0
    pending: dict[str, dict[str, Any]] = {}
    for img in images:
        if img.get("state") in states:
            done += 1
            context.out(
                f"{done}/{total}: Image {img['id']} ({img.get('name')}@{img.get('version')}) "
                f"already {img.get('state')}"
            )
        else:
            pending[str(img["id"])] = img
    if not pending:
        return
    shown = ", ".join(states)
    if len(pending) == 1:
        img = next(iter(pending.values()))
        context.out(
            f"Waiting for image {img['id']} ({img.get('name')}@{img.get('version')}) to enter "
            f"state (states: {shown})"
        )
    else:
        context.out(f"Waiting for {len(pending)} images to enter state (states: {shown})")

    def fetch() -> int:
        nonlocal done
        ids = list(pending)
        for current in each(ids, api.get_image):
            if current.get("state") in states:
                done += 1
                del pending[str(current["id"])]
                context.out(
                    f"{done}/{total}: Image {current['id']} "
                    f"({current.get('name')}@{current.get('version')}) moved to state "
                    f"{current.get('state')}"
                )
        return len(pending)

    waiting.poll(
        context,
        fetch,
        lambda left: left == 0,
        describe=f"images to enter state {shown}",
        status=lambda left: f"{left} image(s) not there yet",
        timeout=waiting.UNBOUNDED_WAIT_TIMEOUT,
    )


WAIT = Command(
    "wait",
    "Wait for images to change to a particular state.",
    do_wait,
    _configure_wait,
    description=(
        "Wait for images to change to a particular state.\n\n"
        'STATES is a comma-separated list of image states, by default "active,failed":\n'
        '"smartdc image wait foo0" waits for image "foo0" to finish being created.'
    ),
)


TREE = Group(
    "image",
    "List and manage Triton images.",
    (LIST, GET, CLONE, COPY, CREATE, DELETE, EXPORT, SHARE, TAG, UNSHARE, UPDATE, WAIT),
    aliases=("img",),
)
