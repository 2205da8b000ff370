"""Steps that put the buildout on the worker, one recipe per buildout kind.

Checkouts always build the configured branch head (``alwaysUseLatest``):
a build may be triggered by a change in *another* watched repository (an
extended cfg, a develop source), whose revision means nothing here.

URLs and branches were checked when the manifest was read; the tag of a
``gittag``/``hgtag`` build comes from whoever forces it, so ``RequireTag``
checks it with the same rules (``vcsref``) before any checkout. Commands we
write ourselves put ``--`` before positional arguments, or glue an
option to its value (``--rev=TAG``), so no value is read as an option.
"""

from __future__ import annotations

from buildbot.plugins import steps, util
from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS

from ..buildoutspec import BuildoutSpec
from ..vcsref import REF_FORMS, ref_problem
from .transfer import ConfinedDownload

TAG_PROPERTY = "buildout-tag"
ARCHIVE_DIR = "archive"


class RequireTag(buildstep.BuildStep):
    """Fail early, and say why, when a tag buildout is built without a tag
    or with one its tool must not be given (``--upload-pack=...``)."""

    name = "check-buildout-tag"
    haltOnFailure = True

    def __init__(self, vcs: str = "git", **kwargs) -> None:
        self.vcs = vcs
        super().__init__(**kwargs)

    async def run(self) -> int:
        tag = self.getProperty(TAG_PROPERTY)
        if not tag or not str(tag).strip():
            await self.addCompleteLog("error", (
                f"This buildout is built from a tag, and the '{TAG_PROPERTY}' property is "
                f"empty.\nForce the build with a tag, e.g. {TAG_PROPERTY}=v1.0 in the force "
                "form, or --prop buildout-tag=v1.0.\n"))
            self.descriptionDone = [f"missing {TAG_PROPERTY}"]
            return FAILURE
        problem = ref_problem(self.vcs, tag) if isinstance(tag, str) else "not a string"
        if problem:
            await self.addCompleteLog("error", (
                f"The '{TAG_PROPERTY}' property {tag!r} is refused: {problem}.\n"
                f"Expected {REF_FORMS[self.vcs]}.\n"))
            self.descriptionDone = [f"refused {TAG_PROPERTY}"]
            return FAILURE
        self.descriptionDone = [f"tag {tag}"]
        return SUCCESS


def source_steps(spec: BuildoutSpec, ship) -> list:
    """Steps fetching the buildout for ``spec``; ``ship(script)`` returns a
    step copying one of our worker scripts into the build directory."""
    source = spec.source
    tag = util.Interpolate(f"%(prop:{TAG_PROPERTY})s")
    if source.kind == "standalone":
        root = source.root or source.path.parent
        return [ConfinedDownload(name="download-buildout", mastersrc=str(source.path),
                                 workerdest="buildout.cfg", root=str(root),
                                 haltOnFailure=True)]
    if source.kind == "git":
        shallow = {"mode": "full", "method": "clobber", "shallow": True} \
            if spec.git_shallow else {"mode": "incremental"}
        return [steps.Git(name="checkout", repourl=source.url, branch=source.branch,
                          alwaysUseLatest=True, haltOnFailure=True, **shallow)]
    if source.kind == "gittag":
        return [RequireTag("git"),
                steps.Git(name="checkout", repourl=source.url, branch=tag, mode="full",
                          method="clobber", alwaysUseLatest=True, shallow=spec.git_shallow,
                          haltOnFailure=True)]
    if source.kind == "hg":
        return [steps.Mercurial(name="checkout", repourl=source.url, mode="incremental",
                                branchType="inrepo", defaultBranch=source.branch,
                                alwaysUseLatest=True, haltOnFailure=True)]
    if source.kind == "hgtag":
        return [RequireTag("hg"),
                steps.Mercurial(name="checkout", repourl=source.url, mode="full",
                                method="clobber", branchType="inrepo", defaultBranch="default",
                                alwaysUseLatest=True, haltOnFailure=True),
                steps.ShellCommand(name="update-to-tag", haltOnFailure=True,
                                   command=["hg", "update", "--clean", util.Interpolate(
                                       f"--rev=%(prop:{TAG_PROPERTY})s")])]
    if source.kind == "bzr":
        return [steps.Bzr(name="checkout", repourl=source.url, mode="full", method="clobber",
                          alwaysUseLatest=True, haltOnFailure=True)]
    if source.kind == "archive":
        url = util.Interpolate(source.url) if "%(" in (source.url or "") else source.url
        return [ship("fetch_archive.py"),
                steps.ShellCommand(name="fetch-archive", haltOnFailure=True,
                                   command=["python3", "anybox-fetch_archive.py", "--", url,
                                            ARCHIVE_DIR])]
    raise ValueError(f"unknown buildout kind {source.kind!r}")
