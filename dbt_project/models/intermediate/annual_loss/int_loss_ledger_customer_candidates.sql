{{ ledger_customer_candidates(ref('int_loss_ledger_company_resolved'), '流失', '流失客户') }}
