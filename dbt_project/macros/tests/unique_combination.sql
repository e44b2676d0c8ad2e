{#- Generic test: the combination of `columns` identifies a row. Returns every row of
    a combination that occurs more than once, lineage included. -#}
{% test unique_combination(model, columns) %}

{{ config(meta={
    'rule': 'share (' ~ columns | join(', ') ~ ') with another row',
    'fix': 'remove the duplicated rows from the workbook',
}) }}

with

duplicated as (

    select {{ columns | join(', ') }}
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

)

select *
from {{ model }}
where ({{ columns | join(', ') }}) in (select {{ columns | join(', ') }} from duplicated)

{% endtest %}
