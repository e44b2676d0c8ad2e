{#- Generic test on a verdict model: fails when more than `share` of its rows were
    dropped or rejected (a file that is mostly garbage fails as a whole). Returns those
    rows, lineage included. -#}
{% test failed_share_at_most(model, share) %}

{{ config(meta={
    'rule': 'were dropped or rejected: more than ' ~ (share * 100) | round | int ~ '% of the sheet',
    'fix': 'check that the right workbook was delivered; `wdh rejects RUN_ID` lists the reasons',
}) }}

with

verdicts as (

    select (_drop_reason is not null or _reject_reason is not null) as failed
    from {{ model }}

)

select *
from {{ model }}
where (_drop_reason is not null or _reject_reason is not null)
    and (select count(*) filter (where failed) from verdicts) > {{ share }} * (select count(*) from verdicts)

{% endtest %}
