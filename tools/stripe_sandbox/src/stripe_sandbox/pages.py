"""Hosted pages: checkout, customer portal and invoice, as plain HTML forms."""

from __future__ import annotations

import html
from collections.abc import Callable

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stripe_sandbox import cards, invoicing
from stripe_sandbox.api import Sandbox
from stripe_sandbox.billing_engine import after_payment
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.checkout_flow import (
    AUTHENTICATION_FAILED,
    PayResult,
    authenticate,
    authenticating,
    expire_if_due,
    pay,
    success_redirect,
)
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.plan_changes import ItemChange, change_items
from stripe_sandbox.routes_subscriptions import set_cancel_at_period_end, set_card

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    ".error{color:#b00020}.box{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}"
    "button{padding:.4rem 1rem}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _card_form(action: str, label: str) -> str:
    return (
        f"<form method='post' action='{html.escape(action)}'>"
        f"<label>Card number <input name='card' value='{cards.CARD_OK}' size='20'></label> "
        f"<button type='submit'>{html.escape(label)}</button></form>"
        "<p><small>4242 4242 4242 4242 succeeds · 4000 0000 0000 0341 is declined · "
        "4000 0025 0000 3155 requires authentication</small></p>"
    )


def invoice_pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with ``lines`` in Helvetica (enough for a browser to show it)."""
    text = " ".join(
        f"({line.replace(chr(92), '').replace('(', '[').replace(')', ']')}) Tj 0 -18 Td"
        for line in lines
    )
    stream = f"BT /F1 14 Tf 72 720 Td {text} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def build_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    state, config = sandbox.state, sandbox.config

    def checkout_page(session: JSON, error: str | None = None, status: int = 200) -> Response:
        record = state.get("_cs", session["id"]) or {}
        rows = ""
        for price_id, qty in record.get("line_items", []):
            price = state.get("price", price_id) or {}
            product = state.get("product", price.get("product", "")) or {}
            rows += (
                f"<li>{html.escape(str(product.get('name', price_id)))} x {qty}: "
                f"{_money(price.get('unit_amount', 0) * qty, price.get('currency', 'usd'))}"
                f" / {html.escape(str((price.get('recurring') or {}).get('interval', '')))}</li>"
            )
        trial = record.get("trial_days")
        body = f"<div class='box'><ul>{rows}</ul>"
        if trial:
            body += f"<p>{trial}-day free trial, nothing charged today.</p>"
        body += "</div>"
        if error:
            body += f"<p class='error'>{html.escape(error)}</p>"
        if session["status"] == "open" and session["mode"] == "setup":
            body += "<p>Save a card for future payments. Nothing is charged today.</p>"
            body += _card_form(f"/checkout/{session['id']}/pay", "Save card")
        elif session["status"] == "open":
            body += _card_form(f"/checkout/{session['id']}/pay", "Subscribe")
            if trial and record.get("payment_method_collection") == "if_required":
                body += (
                    f"<form method='post' action='/checkout/{html.escape(session['id'])}/pay'>"
                    "<input type='hidden' name='card' value=''>"
                    "<button type='submit'>Start trial without a card</button></form>"
                )
            if session["cancel_url"]:
                body += f"<p><a href='{html.escape(session['cancel_url'])}'>Cancel</a></p>"
        else:
            body += f"<p>This checkout session is {html.escape(session['status'])}.</p>"
        return _page("Sandbox Checkout", body, status)

    @router.get("/checkout/{session_id}")
    async def show_checkout(session_id: str) -> Response:
        async with state.lock:
            session = state.get("checkout.session", session_id)
            if session is None:
                return _page("Not found", "<p>No such checkout session.</p>", 404)
            expire_if_due(state, config, session)
            sandbox.commit()
            return checkout_page(session)

    @router.post("/checkout/{session_id}/pay")
    async def pay_checkout(
        session_id: str, card: str = Form(""), email: str = Form("")
    ) -> Response:
        async with state.lock:
            session = state.get("checkout.session", session_id)
            if session is None:
                return _page("Not found", "<p>No such checkout session.</p>", 404)
            try:
                result = pay(state, config, session, card, email or None)
            except StripeError as exc:
                sandbox.commit()
                return checkout_page(session, exc.message, 400)
            sandbox.commit()
            return after_pay(session, result)

    def after_pay(session: JSON, result: PayResult) -> Response:
        if result is PayResult.DECLINED:
            return checkout_page(session, "Your card was declined.", 402)
        if result is PayResult.AUTHENTICATION_FAILED:
            return checkout_page(session, AUTHENTICATION_FAILED, 402)
        if result is PayResult.REQUIRES_ACTION:
            return RedirectResponse(f"/checkout/{session['id']}/authenticate", status_code=303)
        target = success_redirect(session)
        if target is None:
            return _page("Thanks", "<p>Your subscription is set up.</p>")
        return RedirectResponse(target, status_code=303)

    @router.get("/checkout/{session_id}/authenticate")
    async def show_authentication(session_id: str) -> Response:
        session = state.get("checkout.session", session_id)
        if session is None:
            return _page("Not found", "<p>No such checkout session.</p>", 404)
        if not authenticating(state, session):
            return checkout_page(session, "No authentication is in progress.", 400)
        action = html.escape(f"/checkout/{session_id}/authenticate")
        body = (
            "<div class='box'><p>Your bank asks you to confirm this payment "
            "(3D Secure test page).</p>"
            f"<form method='post' action='{action}'>"
            "<button name='result' value='complete'>Complete authentication</button> "
            "<button name='result' value='fail'>Fail authentication</button></form></div>"
        )
        return _page("Sandbox 3D Secure", body)

    @router.post("/checkout/{session_id}/authenticate")
    async def authenticate_checkout(session_id: str, result: str = Form("")) -> Response:
        async with state.lock:
            session = state.get("checkout.session", session_id)
            if session is None:
                return _page("Not found", "<p>No such checkout session.</p>", 404)
            if result not in ("complete", "fail"):
                return checkout_page(session, "result must be complete or fail.", 400)
            try:
                outcome = authenticate(state, config, session, result == "complete")
            except StripeError as exc:
                sandbox.commit()
                return checkout_page(session, exc.message, 400)
            sandbox.commit()
            return after_pay(session, outcome)

    def portal_page(portal: JSON, message: str | None = None) -> Response:
        cus = state.require("customer", portal["customer"])
        subs = [
            s
            for s in state.all("subscription")
            if s["customer"] == cus["id"] and s["status"] != "incomplete_expired"
        ]
        prices = [p for p in state.all("price") if p["active"] and p["type"] == "recurring"]
        base = f"/portal/{portal['id']}"
        body = f"<p>{html.escape(cus['email'] or cus['id'])}</p>"
        if message:
            body += f"<p class='error'>{html.escape(message)}</p>"
        for sub in reversed(subs):
            item = sub["items"]["data"][0]
            price = item["price"]
            hidden = f"<input type='hidden' name='subscription' value='{sub['id']}'>"
            body += (
                f"<div class='box'><p><b>{html.escape(str(price['nickname'] or price['id']))}</b>"
                f" {_money(price['unit_amount'], price['currency'])} · status "
                f"<b>{sub['status']}</b> · period ends {item['current_period_end']}</p>"
            )
            if sub["status"] == "canceled":
                body += "</div>"
                continue
            if sub["cancel_at_period_end"]:
                body += (
                    f"<form method='post' action='{base}/resume'>{hidden}"
                    "<button>Renew subscription</button></form>"
                )
            else:
                body += (
                    f"<form method='post' action='{base}/cancel'>{hidden}"
                    "<button>Cancel at period end</button></form>"
                )
            options = "".join(
                f"<option value='{p['id']}'>{html.escape(str(p['nickname'] or p['id']))} "
                f"({_money(p['unit_amount'], p['currency'])})</option>"
                for p in prices
                if p["id"] != price["id"]
            )
            body += (
                f"<form method='post' action='{base}/plan'>{hidden}<select name='price'>"
                f"{options}</select> <button>Change plan</button></form></div>"
            )
        body += "<h2>Payment method</h2>" + _card_form(f"{base}/card", "Update card")
        if portal["return_url"]:
            body += f"<p><a href='{html.escape(portal['return_url'])}'>Return</a></p>"
        return _page("Sandbox Customer Portal", body)

    @router.get("/portal/{portal_id}")
    async def show_portal(portal_id: str) -> Response:
        portal = state.get("billing_portal.session", portal_id)
        if portal is None:
            return _page("Not found", "<p>No such portal session.</p>", 404)
        return portal_page(portal)

    async def portal_action(
        portal_id: str, action: Callable[[JSON, JSON | None], None], sub_id: str | None
    ) -> Response:
        async with state.lock:
            portal = state.get("billing_portal.session", portal_id)
            if portal is None:
                return _page("Not found", "<p>No such portal session.</p>", 404)
            sub = state.get("subscription", sub_id) if sub_id else None
            if sub is not None and sub["customer"] != portal["customer"]:
                return _page("Forbidden", "<p>Not your subscription.</p>", 403)
            try:
                action(portal, sub)
            except StripeError as exc:
                sandbox.commit()
                return portal_page(portal, exc.message)
            sandbox.commit()
        return RedirectResponse(f"/portal/{portal_id}", status_code=303)

    def set_cancel(value: bool) -> Callable[[JSON, JSON | None], None]:
        def action(_: JSON, sub: JSON | None) -> None:
            if sub is None:
                raise StripeError("Choose a subscription.")
            before = state.snapshot(sub)
            set_cancel_at_period_end(sub, value, state.now())
            state.touch("subscription", sub["id"])
            emit(state, "customer.subscription.updated", sub, previous=before)

        return action

    @router.post("/portal/{portal_id}/cancel")
    async def portal_cancel(portal_id: str, subscription: str = Form("")) -> Response:
        return await portal_action(portal_id, set_cancel(True), subscription)

    @router.post("/portal/{portal_id}/resume")
    async def portal_resume(portal_id: str, subscription: str = Form("")) -> Response:
        return await portal_action(portal_id, set_cancel(False), subscription)

    @router.post("/portal/{portal_id}/plan")
    async def portal_plan(
        portal_id: str, subscription: str = Form(""), price: str = Form("")
    ) -> Response:
        def action(_: JSON, sub: JSON | None) -> None:
            if sub is None:
                raise StripeError("Choose a subscription.")
            new_price = state.require("price", price, "price")
            item = sub["items"]["data"][0]
            upgrade = new_price["unit_amount"] > item["price"]["unit_amount"]
            before = state.snapshot(sub)
            change_items(
                state,
                config,
                sub,
                [ItemChange(item_id=item["id"], price=new_price, quantity=None)],
                "always_invoice" if upgrade else "create_prorations",
                state.now(),
            )
            emit(state, "customer.subscription.updated", sub, previous=before)

        return await portal_action(portal_id, action, subscription)

    @router.post("/portal/{portal_id}/card")
    async def portal_card(portal_id: str, card: str = Form("")) -> Response:
        def action(portal: JSON, _: JSON | None) -> None:
            set_card(state, state.require("customer", portal["customer"]), card)

        return await portal_action(portal_id, action, None)

    @router.get("/invoice/{invoice_id}")
    async def show_invoice(invoice_id: str, error: str = "") -> Response:
        inv = state.get("invoice", invoice_id)
        if inv is None:
            return _page("Not found", "<p>No such invoice.</p>", 404)
        rows = "".join(
            f"<li>{html.escape(line['description'])}: "
            f"{_money(line['amount'], inv['currency'])}</li>"
            for line in inv["lines"]["data"]
        )
        body = (
            f"<div class='box'><p>Invoice {html.escape(str(inv['number']))} · "
            f"<b>{inv['status']}</b></p><ul>{rows}</ul><p>Amount due "
            f"{_money(inv['amount_remaining'], inv['currency'])}</p></div>"
        )
        if error:
            body += f"<p class='error'>{html.escape(error)}</p>"
        if inv["status"] == "open":
            body += _card_form(f"/invoice/{inv['id']}/pay", "Pay")
        return _page("Sandbox Invoice", body)

    @router.get("/invoice/{invoice_id}/pdf")
    async def invoice_pdf(invoice_id: str) -> Response:
        inv = state.get("invoice", invoice_id)
        if inv is None or inv["status"] == "draft":
            return _page("Not found", "<p>No such invoice.</p>", 404)
        lines = [
            f"Invoice {inv['number']} ({inv['status']})",
            f"Total {_money(inv['total'], inv['currency'])}",
        ]
        return Response(
            invoice_pdf_bytes(lines),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{inv["number"]}.pdf"'},
        )

    @router.post("/invoice/{invoice_id}/pay")
    async def pay_invoice(invoice_id: str, card: str = Form("")) -> Response:
        async with state.lock:
            inv = state.get("invoice", invoice_id)
            if inv is None:
                return _page("Not found", "<p>No such invoice.</p>", 404)
            error = ""
            try:
                cus = state.require("customer", inv["customer"])
                pm = set_card(state, cus, card)
                result = invoicing.charge(state, config, inv, pm["id"], on_session=True)
                after_payment(state, config, inv, result)
                if result is not ChargeOutcome.SUCCEEDED:
                    error = "Your card was declined."
            except StripeError as exc:
                error = exc.message
            sandbox.commit()
        suffix = f"?error={error}" if error else ""
        return RedirectResponse(f"/invoice/{invoice_id}{suffix}", status_code=303)

    return router
