{#- Generic test: the combination of `columns` identifies a row, NULLs counting as equal
    values (unique_combination compares with `in`, where a NULL never matches). Returns
    each duplicated combination with its row count. -#}
{% test unique_nullable_combination(model, columns) %}

{{ config(meta={
    'rule': 'share (' ~ columns | join(', ') ~ ') with another row',
    'fix': 'rebuild the model; report a bug',
}) }}

select
    {{ columns | join(', ') }},
    count(*) as n_records
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
