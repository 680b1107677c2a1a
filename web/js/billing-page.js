// /settings/billing: the subscription, its status and the owner's actions.

import { mountBilling } from "./billing-panel.js";
import { mountInvoices } from "./invoices.js";
import { mountNotificationSettings } from "./notification-settings.js";
import { mountPaymentMethods } from "./payment-methods.js";
import { requireUser, startPage } from "./shell.js";
import { confirmCancel } from "./subscription-actions.js";
import { isPaid } from "./subscription-view.js";

startPage();
const root = document.getElementById("billing");
const user = requireUser(root);
if (user) {
  const billing = mountBilling(root, user);
  const methods = mountPaymentMethods(document.getElementById("payment-methods"), user, {
    subscription: () => billing.refresh(),
  });
  const invoices = mountInvoices(document.getElementById("invoices"));
  const notifications = mountNotificationSettings(document.getElementById("notifications"), user);
  const [sub] = await Promise.all([billing.load(), methods.load(), invoices.load(), notifications.load()]);
  // Back from Checkout's setup mode (a card added): verified server-side.
  const setup = new URLSearchParams(location.search);
  if (setup.get("setup") === "complete" && setup.get("session_id")) {
    await methods.returned(setup.get("session_id"));
    await invoices.load();
  } else if (setup.get("setup") === "canceled") {
    history.replaceState(history.state, "", location.pathname);
  }
  // /pricing's "Downgrade" to Free sends owners here to cancel.
  const params = new URLSearchParams(location.search);
  if (params.get("cancel") === "1") {
    history.replaceState(history.state, "", location.pathname);
    if (sub && user.isOwner && isPaid(sub) && !sub.cancel_at_period_end) {
      confirmCancel(sub, () => billing.refresh());
    }
  }
}
