{#- Lineage columns, stated once: where each row came from (the reader adds them) and,
    in the marts, which run published it. -#}

{#- In a staging select: the reader's lineage columns, typed. -#}
{% macro staged_lineage_columns() -%}
        _source_file,
        _source_sheet,
        _source_row::integer as _source_row,
        _file_sha256,
        _period,
{%- endmacro %}

{#- In a mart select: lineage cast to the contract, the run id and (timestamps) created/updated.
    The run id is read only when the model runs (`execute`): an env var read while parsing
    ties the file to its value, and a new run id would make every run re-parse the marts. -#}
{% macro published_lineage_columns(timestamps=true) -%}
        _source_file::varchar(255) as _source_file,
        _source_sheet::varchar(63) as _source_sheet,
        _source_row::integer as _source_row,
        '{{ env_var("WDH_RUN_ID", "manual") if execute else "manual" }}'::varchar(64) as _run_id
        {%- if timestamps %},
        current_timestamp::timestamptz as created_at,
        current_timestamp::timestamptz as updated_at
        {%- endif %}
{%- endmacro %}
