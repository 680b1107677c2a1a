// /settings/billing: the subscription, its status and the owner's actions.

import { mountBilling } from "./billing-panel.js";
import { requireUser, startPage } from "./shell.js";
import { confirmCancel } from "./subscription-actions.js";
import { isPaid } from "./subscription-view.js";

startPage();
const root = document.getElementById("billing");
const user = requireUser(root);
if (user) {
  const billing = mountBilling(root, user);
  const sub = await billing.load();
  // /pricing's "Downgrade" to Free sends owners here to cancel.
  const params = new URLSearchParams(location.search);
  if (params.get("cancel") === "1") {
    history.replaceState(history.state, "", location.pathname);
    if (sub && user.isOwner && isPaid(sub) && !sub.cancel_at_period_end) {
      confirmCancel(sub, () => billing.refresh());
    }
  }
}
