"""Question banks: the list, the blank template, upload → preview → confirm, one bank's questions,
its download in the template's shape, editing a question's text (编辑题目) and correcting its key
(更正答案)."""

from __future__ import annotations

import io
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select

from contest.banks import (
    BankFileError,
    bank_summaries,
    bank_users,
    build_template,
    check_against_bank,
    delete_bank,
    edits,
    read_once,
    store_bank,
    write_bank,
)
from contest.errors import ContestError
from contest.models import Bank, Question
from contest.play import corrections, papers
from contest.runtime import current as current_runtime
from contest.web.admin import admin_required, bp, current_admin
from contest.web.admin.uploads import PendingUploads

TEMPLATE_NAME = "题库导入模板.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUESTIONS_PER_PAGE = 50
BANK_NAME_MAX = 200


def _pending() -> PendingUploads:
    return PendingUploads(Path(current_app.instance_path) / "uploads", current_app.extensions["jd.clock"])


@bp.get("/banks")
def banks():
    rt = current_runtime()
    return render_template("admin/banks.html", banks=bank_summaries(rt.session))


@bp.get("/banks/template")
def bank_template():
    return send_file(io.BytesIO(build_template()), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name=TEMPLATE_NAME, max_age=0)


@bp.post("/banks/upload")
@admin_required("organizer")
def upload_bank():
    rt = current_runtime()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_refused("请选择要上传的题库文件（.xlsx、.csv 或 .json）。")
    if request.form.get("target") == "existing":
        bank = rt.session.get(Bank, request.form.get("bank_id", type=int) or 0)
        if bank is None:
            return _upload_refused("请选择要追加题目的题库。")
        bank_id, bank_name = bank.id, bank.name
    else:
        bank_id, bank_name = None, request.form.get("name", "").strip()
        problem = _new_bank_name_problem(bank_name)
        if problem:
            return _upload_refused(problem)
    token = _pending().keep(upload.read(), Path(upload.filename).name, current_admin().id, bank_id, bank_name)
    return redirect(url_for("admin.preview_bank", token=token))


def _new_bank_name_problem(name: str) -> str | None:
    if not name:
        return "请填写新题库的名称。"
    if len(name) > BANK_NAME_MAX:
        return f"题库名称不能超过 {BANK_NAME_MAX} 个字。"
    if current_runtime().session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        return f"已有名为「{name}」的题库，请换一个名称，或选择追加到该题库。"
    return None


def _upload_refused(message: str):
    flash(message, "error")
    return redirect(url_for("admin.banks") + "#upload")


def _load(pending):
    """Read the kept file and check it against its target bank: (result, whole-file refusal)."""
    try:
        result = read_once.read_kept(pending.folder, pending.filename)
    except BankFileError as error:
        return None, error.message
    return check_against_bank(current_runtime().session, result, pending.bank_id), None


def _pending_upload(token: str):
    pending = _pending().get(token, current_admin().id)
    if pending is None:
        flash("这次上传已过期或已处理，请重新上传题库文件。", "error")
    return pending


@bp.get("/banks/preview/<token>")
@admin_required("organizer")
def preview_bank(token: str):
    pending = _pending_upload(token)
    if pending is None:
        return redirect(url_for("admin.banks"))
    result, refusal = _load(pending)
    only_faults = request.args.get("show") == "faults"
    rows = [] if result is None else [r for r in result.rows if r["faults"] or not only_faults]
    return render_template("admin/bank_preview.html", pending=pending, result=result, refusal=refusal,
                           rows=rows, only_faults=only_faults)


@bp.post("/banks/preview/<token>/confirm")
@admin_required("organizer")
def confirm_bank(token: str):
    pending = _pending_upload(token)
    if pending is None:
        return redirect(url_for("admin.banks"))
    result, refusal = _load(pending)
    if refusal or result.faults:
        flash("文件中还有问题，未导入任何题目。请修改文件后重新上传。", "error")
        return redirect(url_for("admin.preview_bank", token=token))
    if pending.bank_id is None:
        problem = _new_bank_name_problem(pending.bank_name)  # someone may have taken the name meanwhile
        if problem:
            flash(problem, "error")
            return redirect(url_for("admin.preview_bank", token=token))
    try:
        bank = store_bank(current_runtime().session, result, pending.bank_name, bank_id=pending.bank_id,
                          source_file=pending.filename)
    except ContestError as error:
        current_runtime().session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.preview_bank", token=token))
    _pending().drop(token)
    flash(f"已将 {len(result.questions)} 道题导入题库「{bank.name}」。", "success")
    return redirect(url_for("admin.banks"))


@bp.post("/banks/preview/<token>/cancel")
@admin_required("organizer")
def cancel_upload(token: str):
    _pending().drop(token)
    flash("已取消这次导入。", "info")
    return redirect(url_for("admin.banks"))


@bp.get("/banks/<int:bank_id>")
def bank_detail(bank_id: int):
    session = current_runtime().session
    bank = session.get(Bank, bank_id)
    if bank is None:
        abort(404)
    total = session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == bank_id)) or 0
    pages = max(1, -(-total // QUESTIONS_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    questions = session.scalars(
        select(Question).where(Question.bank_id == bank_id).order_by(Question.id)
        .offset((page - 1) * QUESTIONS_PER_PAGE).limit(QUESTIONS_PER_PAGE)
    ).all()
    return render_template("admin/bank_detail.html", bank=bank, questions=questions, total=total,
                           page=page, pages=pages, first_number=(page - 1) * QUESTIONS_PER_PAGE + 1,
                           users=bank_users(session, bank_id))


@bp.post("/banks/<int:bank_id>/delete")
@admin_required("organizer")
def bank_delete(bank_id: int):
    """A bank imported by mistake goes; one that contests, games or answers use is refused (409)."""
    name = delete_bank(current_runtime().session, bank_id)
    current_app.logger.info("admin %s deleted bank %s (%s)", current_admin().username, bank_id, name)
    flash(f"已删除题库「{name}」及其全部题目。", "success")
    return redirect(url_for("admin.banks"))


@bp.get("/banks/<int:bank_id>/export.xlsx")
def bank_export(bank_id: int):
    """The bank as it stands (corrections and edits included) in the import template's columns, so
    the organizer's own Excel file can be brought up to date and imported again elsewhere."""
    session = current_runtime().session
    bank = session.get(Bank, bank_id)
    if bank is None:
        abort(404)
    questions = session.scalars(select(Question).where(Question.bank_id == bank_id).order_by(Question.id))
    body = write_bank(({"type": q.type, "stem": q.stem, "options": q.options, "answer": q.answer,
                        "explanation": q.explanation, "score": _number(q.score), "difficulty": q.difficulty,
                        "category": q.category} for q in questions), title=bank.name)
    return send_file(io.BytesIO(body), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name=f"题库-{bank.name}.xlsx", max_age=0)


def _question_or_404(rt, qid: int) -> Question:
    question = rt.session.get(Question, qid)
    if question is None:
        abort(404)
    return question


def _number(score: float) -> float | int:
    return int(score) if float(score).is_integer() else score


@bp.route("/questions/<int:qid>/edit", methods=["GET", "POST"])
@admin_required("organizer")
def question_edit(qid: int):
    """Mend a question's text; the key and score are corrected on 更正答案."""
    rt = current_runtime()
    question = _question_or_404(rt, qid)
    error = None
    if request.method == "POST":
        try:
            done = edits.edit_question(rt.session, qid, request.form.to_dict(), admin_id=current_admin().id)
            papers.BANKS.forget(question.bank_id)  # other processes read the new text within the cache's 30 s
            if done.record is None:
                flash("没有修改任何内容。", "info")
            else:
                names = "、".join(edits.FIELD_NAMES[name] for name in done.record.changes)
                flash(f"已保存：{names}。新抽取的试卷和交卷后的回顾显示修改后的文字。", "success")
            return redirect(url_for("admin.question_edit", qid=qid))
        except ContestError as failure:
            rt.session.rollback()
            error = failure
    question = rt.session.get(Question, qid)
    # After a refusal the organizer's own text stays in the form to mend.
    typed = request.form if error else None
    return render_template("admin/question_edit.html", question=question, bank=question.bank, error=error,
                           typed=typed, history=edits.history(rt.session, qid),
                           field_names=edits.FIELD_NAMES), error.status if error else 200


@bp.route("/questions/<int:qid>/correct", methods=["GET", "POST"])
@admin_required("organizer")
def question_correct(qid: int):
    """Correct the key and re-score what it marked; or only re-score with the current key."""
    rt = current_runtime()
    question = _question_or_404(rt, qid)
    error = None
    if request.method == "POST":
        try:
            if request.form.get("action") == "regrade":
                done = corrections.regrade(rt, qid, rebuild_all=True)
                flash(f"已按当前答案重新评分：{done.answers} 个作答，{done.attempts_changed} 份答卷分数改变。", "success")
            else:
                fixed = corrections.correct_key(rt, qid, request.form.get("answer", ""), admin_id=current_admin().id)
                old, new = (corrections.key_text(question.type, key) for key in (fixed.old_answer, fixed.new_answer))
                flash(f"答案已由 {old} 更正为 {new}："
                      f"重新评分 {fixed.answers_regraded} 个作答，{fixed.attempts_changed} 份答卷分数改变，排行榜已更新。",
                      "success")
            return redirect(url_for("admin.question_correct", qid=qid))
        except ContestError as failure:
            rt.session.rollback()
            error = failure
    question = rt.session.get(Question, qid)
    # After a refused key, the organizer's own text to mend; otherwise the key as it stands.
    typed = (request.form.get("answer") if error else None) or corrections.key_text(question.type, question.answer)
    return render_template("admin/question_correct.html", question=question, bank=question.bank, error=error,
                           typed=typed, impact=corrections.impact(rt, qid)), error.status if error else 200
