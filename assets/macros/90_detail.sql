-- Quarantine `detail`: what is wrong and what to do, in words a department clerk can act on (中文 / English).
-- Never contains a full citizen ID or a name: the clerk finds the row by file and row number, and the
-- raw value is in `offending_value`. Arguments:
--   reason      the reason code
--   zh, en      the column's label (for KEY_CONFLICT: the natural key's columns)
--   col_type    the registry column type; list_name its code list (code columns)
--   is_empty    the delivered value is empty
--   id          the normalised citizen ID of the offending column (ID reasons only)
--   ref_date    the reference date of the run; region_last_year from ref.regions (ID_REGION only)
--   extra       KEY_CONFLICT: the differing columns; otherwise other columns that also have problems
CREATE OR REPLACE MACRO pb_detail(reason, zh, en, col_type, list_name, is_empty, id, ref_date,
                                  region_last_year, extra) AS (
    CASE reason
        WHEN 'ID_MISSING' THEN zh || '为空，请补录 / ' || en || ' is empty; please fill it in'
        WHEN 'ID_PRECISION_LOST' THEN
            zh || '被Excel转换成了数字，末几位已丢失，请按原始证件重新录入（单元格设为文本格式） / ' || en
            || ' was turned into a number by Excel and its last digits are lost; re-enter it from the '
            || 'original document with the cell formatted as text'
        WHEN 'ID_MALFORMED' THEN
            CASE WHEN length(id) = 18
                THEN zh || '前17位须为数字、第18位须为数字或X / ' || en
                     || ': characters 1-17 must be digits and character 18 a digit or X'
                ELSE zh || '应为18位（或旧式15位数字），实为' || length(id) || '位 / ' || en
                     || ' must have 18 characters (or be a legacy 15-digit number); found ' || length(id)
            END
        WHEN 'ID_CHECKSUM' THEN
            zh || '校验码错误：应为' || pb_id_check_char(id) || '，实为' || id[18]
            || '，请核对号码 / check character wrong: expected ' || pb_id_check_char(id) || ', found '
            || id[18] || '; please check the number'
        WHEN 'ID_BIRTH_DATE' THEN
            CASE
                WHEN pb_id_birth_date(id) IS NULL THEN
                    zh || '中的出生日期（第7-14位）不是真实日期 / the birth date inside the ' || en
                    || ' (characters 7-14) is not a real date'
                WHEN pb_id_birth_date(id) > ref_date THEN
                    zh || '中的出生日期晚于参考日期' || strftime(ref_date, '%Y-%m-%d') || ' / the birth date inside the '
                    || en || ' is after the reference date ' || strftime(ref_date, '%Y-%m-%d')
                ELSE zh || '中的出生日期早于1900年 / the birth date inside the ' || en || ' is before 1900'
            END
        WHEN 'ID_REGION' THEN
            CASE WHEN region_last_year IS NULL
                THEN zh || '前6位地址码' || id[1:6] || '不是（现行或已撤销的）行政区划代码 / address code '
                     || id[1:6] || ' of the ' || en || ' is not a current or retired county code'
                ELSE zh || '前6位地址码' || id[1:6] || '在' || region_last_year
                     || '年后已停用，不可能属于此后出生的人 / address code ' || id[1:6] || ' was retired after '
                     || region_last_year || ' and cannot belong to someone born later'
            END
        WHEN 'DATE_INVALID' THEN
            CASE
                WHEN is_empty THEN zh || '为必填项，不能为空 / ' || en || ' is required'
                WHEN col_type = 'year_month' THEN
                    zh || '不是可识别的年月，请写成YYYY-MM / ' || en || ' is not a recognisable year-month; write YYYY-MM'
                ELSE zh || '不是可识别的真实日期，请写成YYYY-MM-DD / ' || en
                     || ' is not a recognisable real date; write YYYY-MM-DD'
            END
        WHEN 'VALUE_INVALID' THEN
            CASE
                WHEN is_empty AND col_type = 'share' THEN
                    zh || '在共有方式为按份共有时必须填写 / ' || en || ' is required when 共有方式 is 按份共有'
                WHEN is_empty THEN zh || '为必填项，不能为空 / ' || en || ' is required'
                WHEN col_type = 'code' THEN
                    zh || '的值不在代码表' || list_name || '中 / ' || en || ' is not in the code list ' || list_name
                WHEN col_type = 'sex' THEN zh || '应为1/2或男/女 / ' || en || ' must be 1/2 or 男/女'
                WHEN col_type = 'amount' THEN
                    zh || '不是有效的数额（例如12345.67） / ' || en || ' is not a valid amount (e.g. 12345.67)'
                WHEN col_type = 'integer' THEN zh || '不是整数 / ' || en || ' is not a whole number'
                WHEN col_type = 'share' THEN
                    zh || '应为0到1之间的份额，如50%、1/2或0.5 / ' || en
                    || ' must be a share in (0, 1] such as 50%, 1/2 or 0.5'
                ELSE zh || '的值无效 / ' || en || ' is not valid'
            END
        WHEN 'KEY_CONFLICT' THEN
            '同一业务主键（' || zh || '）在本批次中出现多行且内容不同（不同的列：' || extra
            || '），请确认正确的一行后重新报送 / the same natural key (' || en
            || ') occurs in several rows of this delivery with different values (differing columns: '
            || extra || '); send the one correct row'
        ELSE reason
    END
    || CASE WHEN reason <> 'KEY_CONFLICT' AND extra <> ''
        THEN '（另有问题的列 / other columns with problems: ' || extra || '）' ELSE '' END
);

-- A quarantine `detail` written against reference date old_ref, as pb_detail writes it against new_ref: only
-- the ID_BIRTH_DATE message "after the reference date …" names the date (pipelines/lib/staging_copy.py copies
-- a re-delivery's quarantine rows with it).
CREATE OR REPLACE MACRO pb_detail_for_ref_date(detail, reason, old_ref, new_ref) AS (
    CASE WHEN reason = 'ID_BIRTH_DATE' THEN
        replace(replace(detail,
            '参考日期' || strftime(old_ref, '%Y-%m-%d'), '参考日期' || strftime(new_ref, '%Y-%m-%d')),
            'reference date ' || strftime(old_ref, '%Y-%m-%d'), 'reference date ' || strftime(new_ref, '%Y-%m-%d'))
    ELSE detail END
);
