{#- Loss ledger rows typed and cleaned cell by cell (spec §4: as §3.2 with 流失日期). -#}
{{ ledger_staging(source('annual_loss', 'loss_ledger'), '流失日期') }}
